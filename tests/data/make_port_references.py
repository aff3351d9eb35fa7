#!/usr/bin/python3
"""Writes tests/data/ports/*.npz: the PyTorch side of the ports in docs/porting_from_pytorch.md.

Run with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/data/make_port_references.py

For each port NAME it writes NAME_init.npz, the model's state_dict before training (what the C++
port loads, so that both start from the same weights), and NAME_data.npz: the inputs, and
"losses", the loss of each of the 15 training steps. tests/test_ports.cpp runs the C++ ports
(docs/examples/port_*.cpp) on the same files and compares the losses.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 15


def save(name, model, **data):
    np.savez(f"tests/data/ports/{name}_init.npz",
             **{k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()})
    np.savez(f"tests/data/ports/{name}_data.npz", **data)


# 1. An MLP classifier with SGD (momentum, Nesterov, weight decay).
torch.manual_seed(1)
mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
x = torch.randn(32, 4)
y = torch.randint(0, 3, (32,))
init = {k: v.clone() for k, v in mlp.state_dict().items()}
sgd = torch.optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
losses = []
for step in range(STEPS):
    sgd.zero_grad()
    loss = F.cross_entropy(mlp(x), y)
    loss.backward()
    sgd.step()
    losses.append(loss.item())
mlp.load_state_dict(init)
save("mlp", mlp, x=x.numpy(), y=y.numpy(), losses=np.array(losses))


# 2. A variational autoencoder with Adam: a forward of two tensors returning three, and
# binary_cross_entropy on targets in [0, 1].
class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.mu = nn.Linear(16, 2)
        self.logvar = nn.Linear(16, 2)
        self.decoder1 = nn.Linear(2, 16)
        self.decoder2 = nn.Linear(16, 8)

    def forward(self, x, eps):
        h = F.relu(self.encoder(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        return torch.sigmoid(self.decoder2(F.relu(self.decoder1(z)))), mu, logvar


torch.manual_seed(2)
vae = VAE()
x = torch.rand(16, 8)
eps = torch.randn(STEPS, 16, 2)
init = {k: v.clone() for k, v in vae.state_dict().items()}
adam = torch.optim.Adam(vae.parameters(), lr=1e-2)
losses = []
for step in range(STEPS):
    adam.zero_grad()
    reconstruction, mu, logvar = vae(x, eps[step])
    loss = F.binary_cross_entropy(reconstruction, x, reduction="sum") - \
        0.5 * torch.sum(1 + logvar - mu * mu - torch.exp(logvar))
    loss.backward()
    adam.step()
    losses.append(loss.item())
vae.load_state_dict(init)
save("vae", vae, x=x.numpy(), eps=eps.numpy(), losses=np.array(losses))
print("tests/data/ports: mlp, vae; torch", torch.__version__)
