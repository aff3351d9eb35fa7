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


# 3. A CNN with BatchNorm and Adam: the running statistics are in the state_dict and update in
# training mode.
torch.manual_seed(3)
cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
x = torch.randn(8, 1, 8, 8)
y = torch.randint(0, 3, (8,))
init = {k: v.clone() for k, v in cnn.state_dict().items()}
adam = torch.optim.Adam(cnn.parameters(), lr=1e-2)
losses = []
for step in range(STEPS):
    adam.zero_grad()
    loss = F.cross_entropy(cnn(x), y)
    loss.backward()
    adam.step()
    losses.append(loss.item())
cnn.load_state_dict(init)
save("cnn", cnn, x=x.numpy(), y=y.numpy(), losses=np.array(losses))


# 4. A character LSTM with AdamW, gradient clipping and a cosine schedule: next-token prediction
# on a batch of token sequences. The gradient norm starts at 0.26, so clipping at 0.1 acts; AdamW
# hardly sees a gradient's scale, so the norms before clipping are compared too.
class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.head = nn.Linear(16, 10)

    def forward(self, tokens):
        y, _ = self.lstm(self.embed(tokens))
        return self.head(y)


torch.manual_seed(4)
char_lstm = CharLSTM()
text = torch.randint(0, 10, (4, 9))
inputs, targets = text[:, :-1], text[:, 1:]
init = {k: v.clone() for k, v in char_lstm.state_dict().items()}
adamw = torch.optim.AdamW(char_lstm.parameters(), lr=1e-2, weight_decay=0.01)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(adamw, T_max=STEPS)
losses, grad_norms = [], []
for step in range(STEPS):
    adamw.zero_grad()
    logits = char_lstm(inputs)
    loss = F.cross_entropy(logits.reshape(-1, 10), targets.reshape(-1))
    loss.backward()
    grad_norms.append(nn.utils.clip_grad_norm_(char_lstm.parameters(), 0.1).item())
    adamw.step()
    cosine.step()
    losses.append(loss.item())
char_lstm.load_state_dict(init)
save("char_lstm", char_lstm, text=text.numpy(), losses=np.array(losses),
     grad_norms=np.array(grad_norms))


# 5. A pre-norm GELU transformer block with a causal mask and RMSprop (momentum, centered).
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                                activation="gelu", norm_first=True,
                                                batch_first=True)
        self.head = nn.Linear(16, 1)

    def forward(self, x, mask):
        return self.head(self.layer(x, src_mask=mask))


torch.manual_seed(5)
block = Block()
x = torch.randn(4, 6, 16)
target = torch.randn(4, 6, 1)
mask = torch.triu(torch.full((6, 6), float("-inf")), diagonal=1)
init = {k: v.clone() for k, v in block.state_dict().items()}
rms = torch.optim.RMSprop(block.parameters(), lr=1e-3, alpha=0.99, momentum=0.5, centered=True)
losses = []
for step in range(STEPS):
    rms.zero_grad()
    loss = F.mse_loss(block(x, mask), target)
    loss.backward()
    rms.step()
    losses.append(loss.item())
block.load_state_dict(init)
save("transformer", block, x=x.numpy(), target=target.numpy(), losses=np.array(losses))
print("tests/data/ports: mlp, vae, cnn, char_lstm, transformer; torch", torch.__version__)
