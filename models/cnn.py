"""Convolutional classifiers for 28x28 digits: the seed's CNN and LeNet-5.

SeedCNN is the seed's Keras model layer for layer (93,322 parameters):

    input 1x28x28
    Conv2D(32, 3x3) + ReLU   -> 32x26x26      320 params  (32*1*3*3 + 32)
    MaxPool 2x2              -> 32x13x13
    Conv2D(64, 3x3) + ReLU   -> 64x11x11   18,496 params  (64*32*3*3 + 64)
    MaxPool 2x2              -> 64x5x5
    Conv2D(64, 3x3) + ReLU   -> 64x3x3     36,928 params  (64*64*3*3 + 64)
    Flatten                  -> 576
    Dense(64) + ReLU         -> 64         36,928 params  (576*64 + 64)
    Dense(10)                -> 10 logits     650 params  (64*10 + 10)

It returns logits; the softmax lives inside the cross-entropy loss, which is the
numerically stable way (log_softmax) to compute both. Its weights start as Keras'
do: Glorot-uniform weights, zero biases.
"""
from minidl import nn


def keras_init_(model):
    """Keras' default initialisation: glorot_uniform kernels, zero biases."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return model


class SeedCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, num_classes),
        )
        keras_init_(self)

    def forward(self, x):
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """LeCun et al. (1998), with ReLU and max-pooling as usually taught today:
    conv 5x5 (6) -> pool -> conv 5x5 (16) -> pool -> 120 -> 84 -> 10."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 6x14x14
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),             # 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
