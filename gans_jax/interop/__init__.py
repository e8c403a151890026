"""Trained models across codebases: the reference implementations' weights mapped onto the
project's networks and back (``junyanz``: junyanz/pytorch-CycleGAN-and-pix2pix's pix2pix and
CycleGAN networks). Pure array mappings; reading and writing files is the caller's."""
