"""Models built only from minidl: the seed CNN and LeNet-5 (cnn.py); VAE and GAN follow."""
from .cnn import SeedCNN, LeNet5
from .gan import DCGANGenerator, DCGANDiscriminator, MLPGenerator, MLPDiscriminator
from .vae import ConvVAE, MLPVAE, load_vae

__all__ = ["SeedCNN", "LeNet5"]
