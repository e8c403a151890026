"""The ``gans-jax`` command: parse arguments, then dispatch (``COMMANDS``) to the library.

  gans-jax train [--config FILE[:ARG]] [--workdir DIR] [--config.KEY=VALUE ...]
  gans-jax sample --workdir DIR (--num N | --per-class N | --labels A,B,..) --out F.npz|DIR/
  gans-jax sample --workdir DIR [--inputs FOLDER|F.npz] [--num N] [--backward] --out F.npz|DIR/
  gans-jax noise-experiment --workdir DIR [--config FILE[:ARG]] [--noise 0.25] [--noise-images 1]
  gans-jax ablation --workdir DIR [--config FILE[:ARG]] [--unconditional]
  gans-jax artistic-comparison --workdir DIR [--config FILE[:ARG]] [--num-samples N] [--seeds S]
  gans-jax coverage --workdir DIR [--config FILE[:ARG]] [--trials 5] [--datasets ring8,grid25]
  gans-jax evaluate --workdir DIR [--metrics fid10k,is10k,kid10k,pr10k] [--inception-weights FILE]
  gans-jax describe [--config FILE[:ARG]] [--config.KEY=VALUE ...]
  gans-jax list configs|datasets|metrics
  gans-jax fid PATH_A PATH_B [--inception-weights FILE] [--batch-size B] [--dims D] [--save-stats]
  gans-jax convert-inception-weights IN.pth OUT.npz
  gans-jax convert-lpips-weights VGG16.pth LPIPS_VGG.pth OUT.npz
  gans-jax import-weights --format junyanz|pytorch-dcgan|stylegan1 --config FILE[:ARG] FILE...
                          --workdir DIR
  gans-jax export-weights --workdir DIR --format junyanz|pytorch-dcgan --out DIR
  gans-jax report --workdir DIR [--out FILE.html]
  gans-jax style-mix|truncation|noise-map --workdir DIR --out F.png [--seed S] [--rows N]

Errors the user can fix (config, data, run directory, checkpoint, divergence) print one line and
exit 2; SIGINT / SIGTERM during training save first, then exit 130 / 143 with one line.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

from gans_jax import errors, study_commands


def _parser(with_figures: bool = True) -> argparse.ArgumentParser:
  """The command line; ``with_figures=False`` leaves out the families' figure commands, whose
  names need ``gans_jax.trainers`` (and with it JAX) imported."""
  parser = argparse.ArgumentParser(prog="gans-jax", description=__doc__.split("\n")[0])
  commands = parser.add_subparsers(dest="command", required=True)
  _add_training_commands(commands)
  _add_evaluation_commands(commands)
  study_commands.add_parsers(commands)
  _add_weight_commands(commands)
  if with_figures:
    _add_figure_commands(commands)
  return parser


def _add_training_commands(commands) -> None:
  """train, describe, list and sample."""
  train = commands.add_parser(
    "train",
    help="train a config (resumes an existing --workdir; without --config, with its own)",
    epilog=_train_epilog(),
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  train.add_argument("--config", help="NAME[:ARG] or FILE[:ARG], default dcgan")
  train.add_argument("--workdir", help="run directory, default runs/<config>_<time>")
  describe = commands.add_parser(
    "describe", help="a config's departures from its paper, then its parameter counts as JSON"
  )
  describe.add_argument("--config", help="NAME[:ARG] or FILE[:ARG], default dcgan")
  listing = commands.add_parser("list", help="the configs, datasets or metrics there are")
  listing.add_argument("what", choices=LISTS)
  sample = commands.add_parser(
    "sample", help="write samples of a run: F.npz, or DIR/ of PNGs with an index.html"
  )
  sample.add_argument("--workdir", required=True)
  sample.add_argument("--num", type=int, help="how many (class-balanced if conditional)")
  sample.add_argument("--per-class", type=int, default=0, help="N samples of every class")
  sample.add_argument("--labels", help="comma-separated class names or indices, one sample each")
  sample.add_argument("--out", required=True, help="F.npz (arrays) or DIR/ (PNGs, index.html)")
  sample.add_argument("--seed", type=int, default=0)
  sample.add_argument(
    "--inputs", help="image-to-image runs: a folder or .npz of inputs (default: held-out data)"
  )
  sample.add_argument("--backward", action="store_true", help="CycleGAN: translate B -> A")


def _add_evaluation_commands(commands) -> None:
  """evaluate, fid and report (the papers' studies are ``study_commands``')."""
  evaluate = commands.add_parser("evaluate", help="evaluate a run's latest checkpoint")
  evaluate.add_argument("--workdir", required=True)
  evaluate.add_argument(
    "--metrics",
    help="named metrics, e.g. fid10k,is10k,kid10k,pr10k, fd1k_digits or (StyleGAN) "
    "ppl10k_w_full_lpips, ppl1k_w_digits (default: the run's own evaluation)",
  )
  evaluate.add_argument("--inception-weights", help=f"converted weights, default ${_WEIGHTS_ENV}")
  fid = commands.add_parser(
    "fid", help="FID of two image folders or .npz stats files (as python -m pytorch_fid)"
  )
  fid.add_argument("path", nargs=2, help="folders of images or .npz files with mu and sigma")
  fid.add_argument("--inception-weights", help=f"converted weights, default ${_WEIGHTS_ENV}")
  fid.add_argument("--batch-size", type=int, default=50)
  fid.add_argument("--dims", type=int, default=2048, choices=(64, 192, 768, 2048))
  fid.add_argument(
    "--save-stats", action="store_true", help="write the first path's statistics to the second"
  )
  report = commands.add_parser(
    "report", help="one self-contained HTML page of a run: metrics, loss curves, samples, config"
  )
  report.add_argument("--workdir", required=True)
  report.add_argument("--out", help="default DIR/report.html")


def _add_weight_commands(commands) -> None:
  """Converters of the reference codebases' weights."""
  convert = commands.add_parser(
    "convert-inception-weights", help="pytorch-fid's .pth -> .npz for gans-jax (needs torch)"
  )
  convert.add_argument("source", help="pt_inception-2015-12-05-6726825d.pth (or same layout)")
  convert.add_argument("target", help="the .npz to write")
  convert_lpips = commands.add_parser(
    "convert-lpips-weights", help="torchvision vgg16 .pth + lpips v0.1 vgg.pth -> .npz for PPL"
  )
  convert_lpips.add_argument("vgg", help="torchvision's vgg16-397923af.pth")
  convert_lpips.add_argument("lin", help="the lpips package's weights/v0.1/vgg.pth")
  convert_lpips.add_argument("target", help="the .npz to write")
  formats = (
    "junyanz (pix2pix: G [D]; CycleGAN: G_A [G_B [D_A D_B]]), pytorch-dcgan (netG [netD]), "
    "stylegan1 (import only: NVlabs' network-snapshot.pkl)"
  )
  importing = commands.add_parser(
    "import-weights", help="another codebase's trained networks -> a run directory (step 0)"
  )
  importing.add_argument("--format", required=True, help=formats)
  importing.add_argument("--config", help="NAME[:ARG] or FILE[:ARG] of the networks' sizes")
  importing.add_argument("--workdir", required=True, help="the run directory to create")
  importing.add_argument("files", nargs="+", help="the files, in the format's order")
  exporting = commands.add_parser(
    "export-weights", help="a run's networks -> another codebase's files (needs torch)"
  )
  exporting.add_argument("--workdir", required=True)
  exporting.add_argument("--format", required=True, help=formats)
  exporting.add_argument("--out", required=True, help="the directory to write the files into")


def _add_figure_commands(commands) -> None:
  """One command per figure a family draws (``trainers.Family.figures``)."""
  from gans_jax import trainers

  for name, drawn in trainers.figures().items():
    figure = commands.add_parser(name, help=f"{drawn.help} (PNG)")
    figure.add_argument("--workdir", required=True, help="a run directory of a family drawing it")
    figure.add_argument("--out", required=True, help="the PNG to write")
    figure.add_argument("--seed", type=int, default=0, help="latents and noise")
    figure.add_argument("--rows", type=int, default=0, help="rows (sources A / latents)")
    for flag, arguments in drawn.arguments:
      figure.add_argument(flag, **arguments)


_WEIGHTS_ENV = "GANS_JAX_INCEPTION_WEIGHTS"
LISTS = ("configs", "datasets", "metrics")


def _train_epilog() -> str:
  return (
    "--config NAME[:ARG] picks a config and its variant (ARG: key=value,... from the list "
    "below);\n--config.KEY=VALUE (or --config.KEY VALUE) then sets any field, e.g.\n"
    "  gans-jax train --config dcgan:resolution=64,channels=3 --config.num_steps=500 "
    "--config.optim.g.learning_rate=1e-4\n"
    "A misspelt KEY lists the valid ones; `gans-jax describe --config ...` prints the model "
    "sizes.\n\n" + _listing("configs") + "\n\nSee also: gans-jax list datasets | metrics"
  )


def _listing(what: str) -> str:
  """The text of ``gans-jax list WHAT`` (read from sources, without importing JAX)."""
  if what == "configs":
    from gans_jax import config_utils

    lines = ["Configs (NAME: title; variant arguments with their defaults):"]
    for name, file in config_utils.named_configs().items():
      title, arguments = config_utils.config_summary(file)
      lines.append(f"  {name}: {title}")
      lines.append("      " + ", ".join(f"{k}={v}" for k, v in arguments.items()))
    return "\n".join(lines)
  if what == "datasets":
    from data_pipelines import sources

    width = max(map(len, sources.DATASETS))
    return "\n".join(
      ["Datasets (config.dataset or dataset=):"]
      + [f"  {name.ljust(width)}  {text}" for name, text in sources.DATASETS.items()]
    )
  from gans_jax.metrics import registry

  lines = ["Protocols (config.eval.protocol; default: the family's or the dataset's own):"]
  lines.extend(f"  {name}: {text}" for name, text in registry.PROTOCOLS.items())
  lines.append("Metrics (--metrics / config.eval.metrics), one grammar each:")
  for grammar in registry.GRAMMARS:
    lines.extend(f"  {line}" for line in grammar.help)
  return "\n".join(lines)


def _split_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
  """Separates ``--config.KEY=VALUE`` (or ``--config.KEY VALUE``) overrides from other args."""
  rest, overrides = [], []
  args = iter(argv)
  for arg in args:
    if arg.startswith("--config."):
      item = arg[len("--config.") :]
      overrides.append(item if "=" in item else f"{item}={next(args, '')}")
    else:
      rest.append(arg)
  return rest, overrides


def _config(args, overrides):
  from gans_jax import config_utils, determinism

  config = config_utils.load_config(args.config)
  config_utils.apply_overrides(config, overrides)
  determinism.configure(config)  # Before any computation: XLA reads its flags once.
  return config


def _train(args, overrides) -> None:
  from gans_jax import config_utils, determinism, experiment, loop, parallel, runs

  saved = args.workdir and pathlib.Path(args.workdir, loop.CONFIG_FILE)
  if args.config is None and saved and saved.exists():
    config = runs.run_config(args.workdir)  # Resuming (or training an import) as it was saved.
    config_utils.apply_overrides(config, overrides)
    determinism.configure(config)
    config.lock()
    name = str(saved)
  else:
    config = _config(args, overrides)
    name = args.config or config_utils.DEFAULT_CONFIG
  # Multi-host runs; before any computation.
  parallel.initialize_distributed(config.distributed, log=lambda line: print(line, flush=True))
  stem = pathlib.Path(name.split(":")[0]).stem
  workdir = args.workdir or f"runs/{stem}_{time.strftime('%Y%m%d-%H%M%S')}"
  print(f"Training {name} in {workdir}", flush=True)
  experiment.train_and_evaluate(config, workdir, log=lambda line: print(line, flush=True))


def _describe(args, overrides) -> None:
  from gans_jax import fidelity, runs

  config = _config(args, overrides)
  print(fidelity.format_departures(config))
  print(json.dumps(runs.describe(config)))


def _sample(args, overrides) -> None:
  from gans_jax import runs, sample_output

  sample_output.output_format(args.out)  # A wrong --out is refused before anything loads.
  if runs.translates(args.workdir):
    if args.labels or args.per_class:
      raise errors.UsageError(f"{args.workdir} holds a translation model; it takes no classes.")
    arrays = runs.translate(
      args.workdir, args.inputs, args.num, backward=args.backward, seed=args.seed
    )
  else:
    if args.inputs or args.backward:
      raise errors.UsageError(
        f"{args.workdir} holds a sampling model; --inputs/--backward translate."
      )
    labels = args.labels.split(",") if args.labels else None
    arrays = runs.sample(args.workdir, args.num, args.seed, per_class=args.per_class, labels=labels)
  print(sample_output.write(args.out, arrays))


def _evaluate(args, overrides) -> None:
  from gans_jax import runs

  print(json.dumps(runs.evaluate(args.workdir, args.metrics, args.inception_weights)))


def _fid(args, overrides) -> None:
  from gans_jax.metrics import fid

  options = dict(weights=args.inception_weights, dims=args.dims, batch_size=args.batch_size)
  if args.save_stats:
    fid.save_folder_statistics(*args.path, **options)
    print(f"Saved statistics of {args.path[0]} to {args.path[1]}")
  else:
    print(f"FID: {fid.fid_of_paths(*args.path, **options)}")


def _report(args, overrides) -> None:
  from gans_jax import report

  print(f"Wrote {report.write(args.workdir, args.out)}")


def _figure(args, overrides) -> None:
  from gans_jax import runs, trainers

  drawn = trainers.figures()[args.command]
  # The figure's own flags (--psi, --cutoff, ...), by their argparse names.
  names = [flag.lstrip("-").replace("-", "_") for flag, _ in drawn.arguments]
  options = {name: getattr(args, name) for name in names}
  path = runs.figure(
    args.workdir, args.command, args.out, seed=args.seed, rows=args.rows or None, **options
  )
  print(f"Wrote {path}")


def _convert_inception_weights(args, overrides) -> None:
  from gans_jax.metrics import inception_torch

  print(inception_torch.convert_file(args.source, args.target))


def _convert_lpips_weights(args, overrides) -> None:
  from gans_jax.metrics import lpips

  print(lpips.convert_files(args.vgg, args.lin, args.target))


def _import_weights(args, overrides) -> None:
  from gans_jax import weights

  weights.import_weights(args.format, _config(args, overrides), args.files, args.workdir)


def _export_weights(args, overrides) -> None:
  from gans_jax import weights

  weights.export_weights(args.workdir, args.format, args.out)


# command -> (handler(args, overrides), whether it takes --config.* overrides).
COMMANDS = {
  "train": (_train, True),
  "describe": (_describe, True),
  "list": (lambda args, overrides: print(_listing(args.what)), False),
  "sample": (_sample, False),
  "evaluate": (_evaluate, False),
  "fid": (_fid, False),
  **{name: (study_commands.run, True) for name in study_commands.STUDIES},
  "report": (_report, False),
  "convert-inception-weights": (_convert_inception_weights, False),
  "convert-lpips-weights": (_convert_lpips_weights, False),
  "import-weights": (_import_weights, True),
  "export-weights": (_export_weights, False),
}


def run(argv: list[str]) -> int:
  rest, overrides = _split_overrides(argv)
  # The figure commands only when asked for one (or for help): listing them imports JAX.
  args = _parser(with_figures=rest[:1] not in [[c] for c in COMMANDS]).parse_args(rest)
  handler, takes_overrides = COMMANDS.get(args.command, (_figure, False))
  if overrides and not takes_overrides:
    raise SystemExit(f"gans-jax {args.command} takes no --config.* overrides.")
  handler(args, overrides)
  return 0


def main(argv: list[str] | None = None) -> int:
  """Runs a command; a user error prints one line (exit 2), an interrupt its line (130 / 143).

  Anything else is a bug or an environment failure and keeps its traceback (exit 1).
  """
  from data_pipelines import DatasetError
  from gans_jax import errors, interrupts

  # TensorFlow's C++ start-up notices (oneDNN, CPU features) say nothing a user acts on; an
  # explicit setting wins.
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  argv = sys.argv[1:] if argv is None else argv
  what = "nothing new was saved" if argv[:1] == ["train"] else "nothing was written"
  try:
    with interrupts.interruptible(what):
      return run(argv)
  except (errors.UserError, DatasetError) as error:
    print(f"gans-jax: error: {error}", file=sys.stderr)
    return 2
  except interrupts.Interrupted as interrupted:
    print(f"gans-jax: {interrupted.message}", file=sys.stderr)
    return interrupted.exit_code


if __name__ == "__main__":
  sys.exit(main())
