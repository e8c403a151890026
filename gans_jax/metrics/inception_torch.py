"""The PyTorch side of the FID Inception: weight conversion and importing pytorch-fid.

Only ``gans-jax convert-inception-weights``, the parity tests and the benchmark import this
module, and only they need torch. The converter maps pytorch-fid's state dict
(``pt_inception-2015-12-05-6726825d.pth``, or any state dict of the same layout) onto
``inception.FIDInceptionV3``'s variables:

    Mixed_5b.branch1x1.conv.weight [O, I, kh, kw] -> params/Mixed_5b/branch1x1/conv/kernel (HWIO)
    Mixed_5b.branch1x1.bn.weight / bias        -> params/Mixed_5b/branch1x1/bn/scale / bias
    Mixed_5b.branch1x1.bn.running_mean / _var  -> batch_stats/Mixed_5b/branch1x1/bn/mean / var
    fc.weight [1008, 2048] / fc.bias           -> params/fc/kernel [2048, 1008] / bias

``num_batches_tracked`` counters are dropped; anything else unexpected is an error.
"""

from __future__ import annotations

import contextlib
import os
import pathlib

import numpy as np

from gans_jax.metrics import inception

EXPECTED_SHA256_PREFIX = "6726825d"  # In pytorch-fid's file name, as torch.hub checks it.


def _target_name(torch_name: str) -> str | None:
  """The Flax variable name of a state-dict entry, or None for entries that carry no weight."""
  *modules, leaf = torch_name.split(".")
  path = "/".join(modules)
  if leaf == "num_batches_tracked":
    return None
  if modules[-1] == "conv" and leaf == "weight":
    return f"params/{path}/kernel"
  if modules[-1] == "bn":
    return {
      "weight": f"params/{path}/scale",
      "bias": f"params/{path}/bias",
      "running_mean": f"batch_stats/{path}/mean",
      "running_var": f"batch_stats/{path}/var",
    }.get(leaf, f"unknown/{torch_name}")
  if modules == ["fc"] and leaf in ("weight", "bias"):
    return f"params/fc/{'kernel' if leaf == 'weight' else 'bias'}"
  return f"unknown/{torch_name}"


def _to_flax_layout(name: str, value: np.ndarray) -> np.ndarray:
  if name.endswith("conv/kernel"):
    return value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
  if name == "params/fc/kernel":
    return value.T
  return value


def convert_state_dict(state_dict: dict, source: str = "state dict") -> dict:
  """pytorch-fid state dict (name -> tensor or array) -> nested Flax variables (numpy float32).

  Raises:
    inception.WeightsError: naming an entry that has no place in the network, a missing one, or
      a shape mismatch.
  """
  flat = {}
  for torch_name, tensor in state_dict.items():
    name = _target_name(torch_name)
    if name is None:
      continue
    if name.startswith("unknown/"):
      raise inception.WeightsError(
        f"{source}: entry {torch_name!r} is not part of pytorch-fid's FID InceptionV3 "
        "(an auxiliary classifier? another network?)."
      )
    value = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    flat[name] = _to_flax_layout(name, value.astype(np.float32))
  inception.check_variable_shapes({n: v.shape for n, v in flat.items()}, source)
  import flax

  return flax.traverse_util.unflatten_dict(flat, sep="/")


def convert_file(source: str | os.PathLike, target: str | os.PathLike) -> str:
  """Converts a pytorch-fid ``.pth`` to the ``.npz`` that ``inception.load_variables`` reads.

  Returns:
    A one-line report (with a note when the file is not pytorch-fid's release file).

  Raises:
    inception.WeightsError: if the source is missing, unreadable or of another layout.
  """
  try:
    import torch
  except ImportError:
    raise inception.WeightsError(
      "Converting Inception weights needs PyTorch (only for this step): pip install torch"
    ) from None

  source = pathlib.Path(source)
  if not source.is_file():
    raise inception.WeightsError(
      f"Weights to convert not found: {source}. pytorch-fid's file is {inception.PYTORCH_FID_URL}"
    )
  try:
    state_dict = torch.load(source, map_location="cpu", weights_only=True)
  except Exception as error:
    raise inception.WeightsError(f"Cannot read {source} as a PyTorch state dict: {error}") from None
  if not isinstance(state_dict, dict):
    raise inception.WeightsError(f"{source} holds a {type(state_dict).__name__}, not a state dict.")
  variables = convert_state_dict(state_dict, str(source))
  inception.save_variables(variables, target)
  digest = inception.file_digest(source)
  report = f"Converted {source} ({len(state_dict)} entries, sha256 {digest[:8]}...) to {target}."
  if not digest.startswith(EXPECTED_SHA256_PREFIX):
    report += (
      f" Note: not pytorch-fid's release file (its sha256 starts with {EXPECTED_SHA256_PREFIX});"
      " FIDs computed with it are not comparable with published ones."
    )
  return report


def import_pytorch_fid():
  """Imports ``pytorch_fid.inception`` beside a CPU-only torch (see ``import_torchvision``)."""
  import_torchvision()
  from pytorch_fid import inception as pytorch_fid_inception

  return pytorch_fid_inception


def import_torchvision():
  """Imports torchvision beside a CPU-only torch.

  PyPI's torchvision wheels are CUDA-linked; next to a CPU torch their import fails with
  "operator torchvision::nms does not exist" while registering fake kernels for the detection
  operators. Declaring the two operator schemas first lets the import finish; pytorch-fid never
  calls them.
  """
  import torch

  try:
    import torchvision
  except RuntimeError as error:
    if "torchvision::nms" not in str(error):
      raise
    library = torch.library.Library("torchvision", "DEF")  # noqa: TOR901
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _KEEP_ALIVE.append(library)  # The definitions live as long as the Library object.
    import torchvision
  return torchvision


_KEEP_ALIVE: list = []


def random_state_dict(seed: int = 0) -> dict:
  """A state dict of pytorch-fid's layout with random weights *and* BatchNorm statistics.

  The real file cannot be downloaded everywhere (tests, offline machines). Random running
  means and variances matter: at their defaults (0 and 1) a BatchNorm bug such as a wrong
  epsilon or a swapped mean/variance would go unnoticed. Scales keep activations O(1) through
  the ~95 layers (He-normal convolutions, BN gains in [0.5, 1.5]).
  """
  import torch

  model = import_torchvision().models.inception_v3(
    num_classes=inception.NUM_CLASSES, aux_logits=False, weights=None, init_weights=False
  )
  generator = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for module in model.modules():
      if isinstance(module, torch.nn.Conv2d):
        fan_in = module.weight[0].numel()
        module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=generator)
      elif isinstance(module, torch.nn.BatchNorm2d):
        module.weight.uniform_(0.5, 1.5, generator=generator)
        module.bias.normal_(0.0, 0.2, generator=generator)
        module.running_mean.normal_(0.0, 0.5, generator=generator)
        module.running_var.uniform_(0.5, 2.0, generator=generator)
      elif isinstance(module, torch.nn.Linear):
        module.weight.normal_(0.0, module.in_features**-0.5, generator=generator)
        module.bias.normal_(0.0, 0.1, generator=generator)
  return model.state_dict()


@contextlib.contextmanager
def offline_weights(state_dict: dict):
  """Within the block, pytorch-fid builds its network with ``state_dict`` instead of downloading
  the weights (also inside ``pytorch_fid.fid_score``). Yields ``pytorch_fid.inception``."""
  module = import_pytorch_fid()
  download = module.load_state_dict_from_url
  module.load_state_dict_from_url = lambda *args, **kwargs: state_dict
  try:
    yield module
  finally:
    module.load_state_dict_from_url = download


def pytorch_fid_model(state_dict: dict, output_blocks=(3,)):
  """pytorch-fid's own ``InceptionV3(output_blocks)`` (eval mode) with ``state_dict`` loaded in
  place of the downloaded file, and its 2048 -> 1008 ``fc`` layer (which pytorch-fid's wrapper
  drops; the Inception Score needs it)."""
  import torch

  with offline_weights(state_dict) as module:
    model = module.InceptionV3(list(output_blocks)).eval()
  fc = torch.nn.Linear(2048, inception.NUM_CLASSES)
  fc.load_state_dict({"weight": state_dict["fc.weight"], "bias": state_dict["fc.bias"]})
  return model, fc.eval()
