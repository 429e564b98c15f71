"""PyTorch baseline for `resnet50-train`: torchvision ResNet-50 (random init), batch 8,
256x256, cross-entropy on 1000 classes, Adam; median ms per training step after warm-up."""
from _common import emit, image_args, peak_rss_mib, setup_torch, summary, time_it

a = image_args(__doc__)
torch, threads = setup_torch(a.threads)
import torchvision  # noqa: E402

model = torchvision.models.resnet50(weights=None)
model.train()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
x = torch.randn(a.batch, 3, a.size, a.size)
y = torch.randint(0, 1000, (a.batch,))
lossf = torch.nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    loss = lossf(model(x), y)
    loss.backward()
    opt.step()


times = time_it(step, a.iters, a.warmup)
emit({"torch": torch.__version__, "threads": threads, "batch": a.batch, "size": a.size,
      **summary(times), "peakRssMiB": peak_rss_mib()})
