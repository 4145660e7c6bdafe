"""Stage train@<dataset>: fit the model named in params.yaml on the train split.

train.model: logreg or forest (scikit-learn, saved as models/<dataset>/model.pkl),
or torch: a small MLP (train.hidden units, train.epochs of Adam at train.lr in
batches of train.batch_size) saved as model.pt, its weights and hyper-parameters.
It trains on the GPU when torch sees one (CUDA), else on the CPU, and as
deterministically as PyTorch allows: the same seed gives the same model on the
same device and PyTorch version. torch is imported only for train.model: torch.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

MODELS = ("logreg", "forest", "torch")


def main(dataset: str) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    data = np.loadtxt(Path("data/prepared") / dataset / "train.csv", delimiter=",", skiprows=1, ndmin=2)
    labels, pixels = data[:, 0].astype(int), data[:, 1:]
    out = Path("models") / dataset
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("model.pkl", "model.pt"):  # the other kind's file from an earlier run, outside DVC
        (out / stale).unlink(missing_ok=True)
    if params["model"] == "torch":
        where, seconds = train_torch(params, pixels, labels, out)
    else:
        model = build(params)
        start = time.perf_counter()
        model.fit(pixels, labels)
        seconds = time.perf_counter() - start
        with (out / "model.pkl").open("wb") as fh:
            pickle.dump(model, fh)
        where = "cpu"
    print(f"train {dataset}: {params['model']} fitted on {len(labels)} rows on {where} in {seconds:.2f} s (the fit)")


def build(params: dict[str, Any]) -> Any:
    if params["model"] == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=params["n_estimators"], random_state=params["seed"], n_jobs=1)
    if params["model"] == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            StandardScaler(), LogisticRegression(C=params["C"], max_iter=2000, random_state=params["seed"])
        )
    raise SystemExit(f"train.model: unknown model {params['model']!r}; use one of {', '.join(MODELS)}")


def train_torch(params: dict[str, Any], pixels: np.ndarray, labels: np.ndarray, out: Path) -> tuple[str, float]:
    """Fit src/predict.py's MLP, save its state_dict and hyper-parameters: (the device, the fit's seconds)."""
    # cuBLAS is deterministic only with a fixed workspace, which must be set before CUDA starts:
    # https://docs.pytorch.org/docs/stable/notes/randomness.html
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch
    from predict import SCALE, TORCH_FILE, mlp

    seed = int(params["seed"])
    torch.manual_seed(seed)  # every device's generator
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    where = f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"
    if device.type == "cpu":
        # Batches of 32 rows through 64x64 layers are too small to share between threads: on a busy
        # 2-core runner two threads took 27.7 s for the full data's fit, one thread 0.85 s. One thread
        # also makes the CPU result the same on any machine (no thread-count-dependent reductions).
        torch.set_num_threads(1)
    print(f"train: torch {torch.__version__} on {where}")

    classes = sorted({int(c) for c in labels})
    index = {c: i for i, c in enumerate(classes)}
    x = torch.as_tensor(pixels.astype(np.float32) / SCALE, device=device)
    y = torch.as_tensor([index[int(c)] for c in labels], dtype=torch.long, device=device)
    net = mlp(int(params["hidden"]), len(classes)).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=float(params["lr"]))
    loss_of = torch.nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)  # the batches' shuffle: its own seeded generator, on the CPU
    batch = int(params["batch_size"])
    start = time.perf_counter()  # the fit alone: importing torch and starting CUDA are not training
    net.train()
    for _ in range(int(params["epochs"])):
        for rows in torch.randperm(len(y), generator=order).split(batch):
            rows = rows.to(device)
            optimiser.zero_grad()
            loss = loss_of(net(x[rows]), y[rows])
            loss.backward()
            optimiser.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    hyper = {key: params[key] for key in ("hidden", "epochs", "lr", "batch_size", "seed")} | {"classes": classes}
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "hyper": hyper}, out / TORCH_FILE)
    return where, seconds


if __name__ == "__main__":
    main(sys.argv[1])
