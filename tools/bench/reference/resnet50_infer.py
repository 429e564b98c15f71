"""PyTorch baseline for `resnet50-infer`: torchvision ResNet-50 trunk as a feature extractor
(eval mode, no grad, up to the 2048-channel map), batch 8, 256x256; images/s."""
from _common import emit, image_args, peak_rss_mib, setup_torch, summary, time_it

a = image_args(__doc__)
torch, threads = setup_torch(a.threads)
import torchvision  # noqa: E402

m = torchvision.models.resnet50(weights=None)
trunk = torch.nn.Sequential(*list(m.children())[:-2]).eval()
x = torch.randn(a.batch, 3, a.size, a.size)


def run():
    with torch.no_grad():
        trunk(x)


times = time_it(run, a.iters, a.warmup)
s = summary(times)
emit({"torch": torch.__version__, "threads": threads, "batch": a.batch, "size": a.size, **s,
      "imagesPerSec": a.batch / (s["medianMs"] / 1000.0), "peakRssMiB": peak_rss_mib()})
