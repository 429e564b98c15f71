"""PyTorch baseline for `bert-base-train`: a BERT-base encoder (12 layers, hidden 768, 12 heads,
intermediate 3072, vocab 28996 as Bio_ClinicalBERT), forward + backward on 8 x 128 tokens
(loss = mean square of last_hidden_state + pooled output sum), median ms per step.
Written with torch.nn only (no transformers needed): post-LN layers, exact GELU, the
HF BertModel layout."""
import math

from _common import emit, parse_args, peak_rss_mib, setup_torch, summary, time_it

a = parse_args(batch=8, seq=128, layers=12, hidden=768, heads=12, iters=10, warmup=2, threads=0)
torch, threads = setup_torch(a.threads)
nn = torch.nn
F = torch.nn.functional


class Layer(nn.Module):
    def __init__(s, h, nh, inter):
        super().__init__()
        s.nh = nh
        s.qkv = nn.Linear(h, 3 * h)
        s.o = nn.Linear(h, h)
        s.ln1 = nn.LayerNorm(h, eps=1e-12)
        s.i = nn.Linear(h, inter)
        s.out = nn.Linear(inter, h)
        s.ln2 = nn.LayerNorm(h, eps=1e-12)

    def forward(s, x, mask):
        b, t, h = x.shape
        q, k, v = s.qkv(x).view(b, t, 3, s.nh, h // s.nh).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(h // s.nh) + mask
        ctx = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, h)
        x = s.ln1(x + s.o(ctx))
        return s.ln2(x + s.out(F.gelu(s.i(x))))


class Bert(nn.Module):
    def __init__(s, vocab=28996, h=768, layers=12, nh=12, maxpos=512):
        super().__init__()
        s.word = nn.Embedding(vocab, h)
        s.pos = nn.Embedding(maxpos, h)
        s.tok = nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = nn.ModuleList([Layer(h, nh, 4 * h) for _ in range(layers)])
        s.pool = nn.Linear(h, h)

    def forward(s, ids, attn):
        t = ids.shape[1]
        x = s.ln(s.word(ids) + s.pos(torch.arange(t))[None] + s.tok(torch.zeros_like(ids)))
        mask = (1.0 - attn[:, None, None, :].float()) * -10000.0
        for l in s.layers:
            x = l(x, mask)
        return x, torch.tanh(s.pool(x[:, 0]))


model = Bert(h=a.hidden, layers=a.layers, nh=a.heads).train()
ids = torch.randint(0, 28996, (a.batch, a.seq))
attn = torch.ones(a.batch, a.seq, dtype=torch.long)
attn[:, a.seq * 3 // 4:] = 0  # a padded tail, as real batches have


def step():
    model.zero_grad(set_to_none=True)
    hs, pooled = model(ids, attn)
    (hs.pow(2).mean() + pooled.sum()).backward()


times = time_it(step, a.iters, a.warmup)
emit({"torch": torch.__version__, "threads": threads, "batch": a.batch, "seq": a.seq, **summary(times),
      "peakRssMiB": peak_rss_mib()})
