"""The hand-built CNNs: the seed's architecture exactly, and a 1:1 map onto PyTorch."""
import numpy as np
import pytest

import minidl
from models import SeedCNN, LeNet5


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_seed_cnn_has_the_keras_models_93322_parameters_and_shapes():
    model = SeedCNN()
    assert n_params(model) == 93_322  # as Keras' model.summary() reports
    shapes = {}

    def remember_shape(name):
        def hook(module, inputs, output):
            shapes[name] = output.shape
        return hook

    for name, layer in model.named_modules():
        if name:
            layer.register_forward_hook(remember_shape(name))
    out = model(minidl.rand(2, 1, 28, 28))
    assert out.shape == (2, 10)
    assert shapes["features.0"] == (2, 32, 26, 26)
    assert shapes["features.2"] == (2, 32, 13, 13)
    assert shapes["features.5"] == (2, 64, 5, 5)
    assert shapes["features.6"] == (2, 64, 3, 3)
    assert shapes["classifier.0"] == (2, 576)


def test_lenet5_shapes_and_parameter_count():
    model = LeNet5()
    assert n_params(model) == 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850
    assert model(minidl.rand(3, 1, 28, 28)).shape == (3, 10)


def torch_twin(torch, model):
    """The same architecture in PyTorch, holding a copy of model's weights."""
    nn = torch.nn
    if isinstance(model, SeedCNN):
        features = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(64, 64, 3), nn.ReLU())
        classifier = nn.Sequential(nn.Flatten(), nn.Linear(576, 64), nn.ReLU(),
                                   nn.Linear(64, 10))
    else:
        features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                                   nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    net = nn.Sequential()
    net.features, net.classifier = features, classifier
    net.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    return net


@pytest.mark.parametrize("make", [SeedCNN, LeNet5])
def test_state_dict_loads_into_the_same_pytorch_model_with_equal_outputs(make):
    torch = pytest.importorskip("torch")
    model = make()
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    net = torch_twin(torch, model)
    with minidl.no_grad():
        ours = model(minidl.tensor(x)).numpy()
    theirs = net(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_seed_cnn_training_follows_pytorch_step_by_step():
    """Same weights, same batches, Adam: the loss curves agree (float32 rounding aside)."""
    torch = pytest.importorskip("torch")
    model = SeedCNN()
    net = torch_twin(torch, model)
    opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
    topt = torch.optim.Adam(net.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)
    for _ in range(8):
        x = rng.random((8, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 8)
        opt.zero_grad()
        loss = minidl.functional.cross_entropy(model(minidl.tensor(x)), minidl.tensor(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-4, abs=1e-5)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(model.state_dict()[name].numpy(), p.detach().numpy(),
                                   rtol=1e-3, atol=1e-5)


def test_seed_cnn_learns_a_small_batch():
    minidl.manual_seed(0)
    model = SeedCNN()
    opt = minidl.optim.Adam(model.parameters(), lr=3e-3)
    x = minidl.rand(16, 1, 28, 28)
    y = minidl.randint(0, 10, (16,))
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = minidl.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]  # memorises 16 random images
