"""Two processes on the CPU through torchrun: both ranks must end with identical weights."""

import json
import os
import subprocess
import sys

import torch

from icanvas.checkpoint import from_pretrained
from icanvas.config import load_train_config
from icanvas.models import UNetGenerator


def test_two_process_ddp_keeps_ranks_identical(prepared_dir, tmp_path):
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "icanvas", "train",
           "--config", "tiny", "--data", str(prepared_dir), "--out", str(run), "--set", "run.steps=4", "--set", "run.sample_every=0"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((run / "distributed.json").read_text())
    assert report["world_size"] == 2
    fa, fb = (torch.tensor(f, dtype=torch.float64) for f in report["fingerprints"])
    assert torch.allclose(fa, fb, rtol=0, atol=1e-9 * fa.abs().max().item())
    # and training actually changed the weights
    cfg = load_train_config("tiny")
    torch.manual_seed(cfg.run.seed)
    init = UNetGenerator(cfg.generator)
    trained, _ = from_pretrained(run / "model")
    assert any(not torch.equal(p, q) for p, q in zip(init.state_dict().values(), trained.state_dict().values()))
