"""minidl.data: datasets and batches (PyTorch's torch.utils.data), and MNIST.

  dataset.py     Dataset, TensorDataset, Subset, random_split
  dataloader.py  DataLoader (shuffled mini-batches), default_collate
  sampler.py     DistributedSampler: each rank's share of the data (PyTorch's lists)
  checks.py      what user transforms and datasets return, checked; errors name the item
  idx.py         read_idx / write_idx: the file format of MNIST
  mnist.py       mnist() arrays and the MNIST Dataset: find, download or use the subset
  make_subset.py builds mnist_subset/, the 10,000 + 2,000 images shipped with minidl
  transforms.py  augmentation and preprocessing: RandomAffine, RandomCrop,
                 RandomElastic, Normalize, Compose (batch-wise, seeded)
"""
from .dataset import Dataset, TensorDataset, Subset, random_split
from .dataloader import DataLoader, default_collate
from .sampler import DistributedSampler
from .idx import IDXError, read_idx, write_idx
from .mnist import MNIST, MNISTArrays, DownloadError, mnist, download_mnist
from .transforms import RandomAffine, RandomCrop, RandomElastic, Normalize, Compose
