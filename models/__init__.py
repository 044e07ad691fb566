"""Models built only from minidl:

  cnn.py      SeedCNN (the seed's Keras CNN) and LeNet5
  vae.py      ConvVAE and MLPVAE, and their loss (the negative ELBO)
  vae_editing.py   the VAE's editing methods: reconstruct, sample, interpolate,
              map_fit, denoise, inpaint, latent arithmetic
  cvae.py     ConditionalVAE: "draw a 7", style transfer across digits
  iaf.py      IAFVAE: the conv VAE with an inverse autoregressive flow posterior
  deformation.py, tone.py, enhancement.py   edits: warps and their plausible
              versions; brightness, contrast, gamma, stroke thickness; deblurring
              and super-resolution with the VAE as prior
  gan.py      DCGAN, WGAN-GP critic and MLP GAN, with their losses
  frechet.py  the Frechet distance and class coverage of generated digits
"""
from .cnn import SeedCNN, LeNet5
from .gan import DCGANGenerator, DCGANDiscriminator, MLPGenerator, MLPDiscriminator
from .vae import ConvVAE, MLPVAE, load_vae
from .cvae import ConditionalVAE
from .iaf import IAFVAE

__all__ = ["SeedCNN", "LeNet5", "ConvVAE", "MLPVAE", "load_vae", "ConditionalVAE",
           "IAFVAE", "DCGANGenerator",
           "DCGANDiscriminator", "MLPGenerator", "MLPDiscriminator"]
