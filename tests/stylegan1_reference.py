"""A numpy forward pass of NVlabs' StyleGAN generator graph (``training/networks_stylegan.py``:
``G_mapping`` and ``G_synthesis`` at lod 0, ``randomize_noise=False``), written from that file in
its own layout (NCHW, NVlabs' variable names, its fused ``upscale2d_conv2d`` from 128x128 up),
independently of the project's modules: the reference the StyleGAN import is tested against."""

import numpy as np

SQRT2 = np.sqrt(2.0)


def lrelu(x):
  return np.maximum(x, 0.2 * x)


def runtime_weight(w, gain, lrmul=1.0):
  """``get_weight`` with ``use_wscale``: the stored weight times gain / sqrt(fan_in) * lrmul."""
  return w * (gain / np.sqrt(np.prod(w.shape[:-1]))) * lrmul


def dense(x, w, gain, lrmul=1.0):
  return x.reshape(len(x), -1) @ runtime_weight(w, gain, lrmul)


def conv2d(x, w, gain):
  """'SAME' stride-1 convolution, x NCHW, w [k, k, in, out]."""
  w = runtime_weight(w, gain)
  k, p = w.shape[0], w.shape[0] // 2
  padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
  h, width = x.shape[2:]
  out = np.zeros((x.shape[0], w.shape[3], h, width))
  for a in range(k):
    for b in range(k):
      out += np.einsum("nchw,co->nohw", padded[:, :, a : a + h, b : b + width], w[a, b])
  return out


def upscale2d(x):
  return x.repeat(2, axis=2).repeat(2, axis=3)


def blur2d(x):
  """The normalised [1, 2, 1] x [1, 2, 1] filter, depthwise, 'SAME' (zero padding)."""
  f = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
  padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
  h, w = x.shape[2:]
  return sum(f[a, b] * padded[:, :, a : a + h, b : b + w] for a in range(3) for b in range(3))


def upscale2d_conv2d_fused(x, w, gain):
  """NVlabs' fused path: the 3x3 kernel transposed to [k, k, out, in], zero-padded and summed
  over its four shifts into 4x4, then ``conv2d_transpose`` with stride 2, 'SAME' (the gradient of
  a stride-2 'SAME' convolution of the 2H x 2W output: one row / column of padding each side)."""
  w = runtime_weight(w, gain).transpose(0, 1, 3, 2)
  w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
  w = w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]  # [4, 4, out, in]
  n, _, h, width = x.shape
  out = np.zeros((n, w.shape[2], 2 * h + 4, 2 * width + 4))  # Room for the border taps.
  for a in range(4):
    for b in range(4):
      contribution = np.einsum("nihw,oi->nohw", x, w[a, b])
      out[:, :, a + 1 : a + 1 + 2 * h : 2, b + 1 : b + 1 + 2 * width : 2] += contribution
  # Output pixel p received the tap a at p = 2 i + a - 1: index p + 2 in ``out``.
  return out[:, :, 2 : 2 + 2 * h, 2 : 2 + 2 * width]


def upscale2d_conv2d(x, w, gain):
  """``fused_scale='auto'``: fused when the output is at least 128 pixels wide."""
  if min(x.shape[2:]) * 2 >= 128:
    return upscale2d_conv2d_fused(x, w, gain)
  return conv2d(upscale2d(x), w, gain)


def instance_norm(x, epsilon=1e-8):
  x = x - x.mean(axis=(2, 3), keepdims=True)
  return x / np.sqrt((x**2).mean(axis=(2, 3), keepdims=True) + epsilon)


def mapping(z, variables, num_layers, lrmul=0.01):
  """``G_mapping``: z [N, Z] -> w [N, W]."""
  x = z / np.sqrt((z**2).mean(axis=1, keepdims=True) + 1e-8)  # pixel_norm
  for i in range(num_layers):
    x = dense(x, variables[f"Dense{i}/weight"], SQRT2, lrmul)
    x = lrelu(x + variables[f"Dense{i}/bias"] * lrmul)
  return x


def synthesis(dlatents, variables, resolution):
  """dlatents [N, num_layers, W] -> images [N, C, R, R], the noise from the ``noise{i}``
  variables ([1, 1, 2^res, 2^res])."""
  top = int(np.log2(resolution))

  def epilogue(x, scope, layer):
    x = x + variables[f"noise{layer}"] * variables[f"{scope}/Noise/weight"][None, :, None, None]
    x = lrelu(x + variables[f"{scope}/bias"][None, :, None, None])
    x = instance_norm(x)
    style = dense(dlatents[:, layer], variables[f"{scope}/StyleMod/weight"], 1.0)
    style = (style + variables[f"{scope}/StyleMod/bias"]).reshape(len(x), 2, x.shape[1], 1, 1)
    return x * (style[:, 0] + 1) + style[:, 1]

  const = variables["4x4/Const/const"]
  x = epilogue(np.tile(const, (len(dlatents), 1, 1, 1)), "4x4/Const", 0)
  x = epilogue(conv2d(x, variables["4x4/Conv/weight"], SQRT2), "4x4/Conv", 1)
  for res in range(3, top + 1):
    scope = f"{2**res}x{2**res}"
    x = blur2d(upscale2d_conv2d(x, variables[f"{scope}/Conv0_up/weight"], SQRT2))
    x = epilogue(x, f"{scope}/Conv0_up", 2 * res - 4)
    x = epilogue(
      conv2d(x, variables[f"{scope}/Conv1/weight"], SQRT2), f"{scope}/Conv1", 2 * res - 3
    )
  rgb = conv2d(x, variables["ToRGB_lod0/weight"], 1.0)
  return rgb + variables["ToRGB_lod0/bias"][None, :, None, None]


def downscale2d(x):
  """2x2 average pooling."""
  n, c, h, w = x.shape
  return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def conv2d_downscale2d_fused(x, w, gain):
  """NVlabs' fused path: the 3x3 kernel zero-padded and averaged over its four shifts into 4x4,
  then a stride-2 'SAME' convolution (TensorFlow pads one row / column before, one after)."""
  w = np.pad(runtime_weight(w, gain), ((1, 1), (1, 1), (0, 0), (0, 0)))
  w = (w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]) * 0.25  # [4, 4, in, out]
  padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
  n, _, h, width = x.shape
  out = np.zeros((n, w.shape[3], h // 2, width // 2))
  for a in range(4):
    for b in range(4):
      window = padded[:, :, a : a + h : 2, b : b + width : 2]
      out += np.einsum("nchw,co->nohw", window, w[a, b])
  return out


def conv2d_downscale2d(x, w, gain):
  """``fused_scale='auto'``: fused when the input is at least 128 pixels wide."""
  if min(x.shape[2:]) >= 128:
    return conv2d_downscale2d_fused(x, w, gain)
  return downscale2d(conv2d(x, w, gain))


def minibatch_stddev(x, group_size=4):
  """One feature map: the group standard deviation, groups strided over the batch ([G, M])."""
  group = min(group_size, len(x))
  y = x.reshape(group, -1, *x.shape[1:])
  y = np.sqrt(((y - y.mean(axis=0)) ** 2).mean(axis=0) + 1e-8).mean(axis=(1, 2, 3))  # [M]
  y = np.tile(y, group)[:, None, None, None] * np.ones((1, 1, *x.shape[2:]))
  return np.concatenate([x, y], axis=1)


def discriminator(images, variables, resolution, mbstd_group_size=4):
  """``D_basic`` at lod 0: images [N, C, R, R] -> scores [N, 1]."""
  top = int(np.log2(resolution))

  def layer(x, scope, op, gain=SQRT2, activate=True):
    x = op(x, variables[f"{scope}/weight"], gain)
    bias = variables[f"{scope}/bias"]
    x = x + (bias if x.ndim == 2 else bias[None, :, None, None])
    return lrelu(x) if activate else x

  x = layer(images, "FromRGB_lod0", conv2d)
  for res in range(top, 2, -1):
    scope = f"{2**res}x{2**res}"
    x = layer(x, f"{scope}/Conv0", conv2d)
    x = layer(blur2d(x), f"{scope}/Conv1_down", conv2d_downscale2d)
  x = layer(minibatch_stddev(x, mbstd_group_size), "4x4/Conv", conv2d)
  x = layer(x, "4x4/Dense0", dense)  # Flattens NCHW.
  return layer(x, "4x4/Dense1", dense, gain=1.0, activate=False)


def official_shapes(resolution, channels=3, latent=512, w=512, mapping_layers=8, fmap_base=8192,
                    fmap_max=512):  # fmt: skip
  """{name: shape} of every variable of G_mapping, G_synthesis and D_basic as
  ``networks_stylegan.py`` creates them (nf(stage) = min(fmap_base / 2^stage, fmap_max); the
  mapping layers w wide), without ``lod``, ``dlatent_avg`` and the noise inputs."""
  nf = lambda stage: min(int(fmap_base / 2.0**stage), fmap_max)  # noqa: E731
  top = int(np.log2(resolution))
  mapping = {}
  for i in range(mapping_layers):
    mapping |= {f"Dense{i}/weight": (latent if i == 0 else w, w), f"Dense{i}/bias": (w,)}

  def epilogue(scope, fmaps):
    return {
      f"{scope}/Noise/weight": (fmaps,),
      f"{scope}/bias": (fmaps,),
      f"{scope}/StyleMod/weight": (w, 2 * fmaps),
      f"{scope}/StyleMod/bias": (2 * fmaps,),
    }

  synthesis = {"4x4/Const/const": (1, nf(1), 4, 4), "4x4/Conv/weight": (3, 3, nf(1), nf(1))}
  synthesis |= epilogue("4x4/Const", nf(1)) | epilogue("4x4/Conv", nf(1))
  for res in range(3, top + 1):
    scope = f"{2**res}x{2**res}"
    synthesis[f"{scope}/Conv0_up/weight"] = (3, 3, nf(res - 2), nf(res - 1))
    synthesis[f"{scope}/Conv1/weight"] = (3, 3, nf(res - 1), nf(res - 1))
    synthesis |= epilogue(f"{scope}/Conv0_up", nf(res - 1)) | epilogue(
      f"{scope}/Conv1", nf(res - 1)
    )
  for res in range(2, top + 1):
    synthesis |= {f"ToRGB_lod{top - res}/weight": (1, 1, nf(res - 1), channels),
                  f"ToRGB_lod{top - res}/bias": (channels,)}  # fmt: skip
  discriminator = {}
  for res in range(top, 1, -1):
    discriminator |= {f"FromRGB_lod{top - res}/weight": (1, 1, channels, nf(res - 1)),
                      f"FromRGB_lod{top - res}/bias": (nf(res - 1),)}  # fmt: skip
  for res in range(top, 2, -1):
    scope = f"{2**res}x{2**res}"
    discriminator |= {f"{scope}/Conv0/weight": (3, 3, nf(res - 1), nf(res - 1)),
                      f"{scope}/Conv0/bias": (nf(res - 1),),
                      f"{scope}/Conv1_down/weight": (3, 3, nf(res - 1), nf(res - 2)),
                      f"{scope}/Conv1_down/bias": (nf(res - 2),)}  # fmt: skip
  discriminator |= {"4x4/Conv/weight": (3, 3, nf(1) + 1, nf(1)), "4x4/Conv/bias": (nf(1),),
                    "4x4/Dense0/weight": (16 * nf(1), nf(0)), "4x4/Dense0/bias": (nf(0),),
                    "4x4/Dense1/weight": (nf(0), 1), "4x4/Dense1/bias": (1,)}  # fmt: skip
  return mapping, synthesis, discriminator


def noise_shapes(resolution):
  """{``noise{i}``: [1, 1, 2^res, 2^res]} of G_synthesis' fixed noise inputs."""
  layers = 2 * int(np.log2(resolution)) - 2
  return {f"noise{i}": (1, 1, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2)) for i in range(layers)}
