"""Trained models across codebases: the reference implementations' weights mapped onto the
project's networks and back (``junyanz``: junyanz/pytorch-CycleGAN-and-pix2pix's pix2pix and
CycleGAN networks; ``pytorch_dcgan``: the PyTorch examples' DCGAN), one tensor at a time
(``state_dicts``), and PyTorch's files read without PyTorch through an unpickler that runs nothing
outside an allowlist (``torch_files``, ``restricted_pickle``). The commands that use them are
``gans_jax.weights``'."""
