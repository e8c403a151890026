"""The papers' studies as ``gans-jax`` commands: each trains its runs, then prints its table.

  gans-jax noise-experiment --workdir DIR [--config FILE[:ARG]] [--noise 0.25] [--noise-images 1]
  gans-jax ablation --workdir DIR [--config FILE[:ARG]] [--unconditional]
  gans-jax artistic-comparison --workdir DIR [--config FILE[:ARG]] [--num-samples N] [--seeds S]
  gans-jax coverage --workdir DIR [--config FILE[:ARG]] [--trials 5] [--datasets ring8,grid25]

Imports nothing heavy at module level: ``gans-jax --help`` lists these without JAX.
"""

from __future__ import annotations

# The studies' default configs, by config name (config_utils.resolve_config_path).
ARTISTIC_COMPARISON_CONFIG = "artistic"
NOISE_EXPERIMENT_CONFIG = "pix2pix"
ABLATION_CONFIG = "pix2pix"
COVERAGE_CONFIG = "gan"
STUDIES = ("noise-experiment", "ablation", "artistic-comparison", "coverage")


def add_parsers(commands) -> None:
  """One sub-command per study, on the ``gans-jax`` sub-parsers ``commands``."""
  noise = commands.add_parser(
    "noise-experiment",
    help="Tucker 2022: pix2pix on clean and on noisy semantic maps; RGB table on held-out maps",
  )
  noise.add_argument("--config", default=NOISE_EXPERIMENT_CONFIG, help="FILE[:ARG] or NAME[:ARG]")
  noise.add_argument("--workdir", required=True, help="one sub-directory per run")
  noise.add_argument("--noise", type=float, default=0.25, help="fraction of pixels replaced")
  noise.add_argument("--noise-images", type=float, default=1.0, help="fraction of maps noised")
  ablation = commands.add_parser(
    "ablation",
    help="pix2pix's Table 1: L1, cGAN and L1+cGAN trained alike, FCN-scores, real-vs-fake test",
  )
  ablation.add_argument("--config", default=ABLATION_CONFIG, help="FILE[:ARG] or NAME[:ARG]")
  ablation.add_argument("--workdir", required=True, help="one sub-directory per loss")
  ablation.add_argument(
    "--unconditional", action="store_true", help="also GAN and L1+GAN (D without the input)"
  )
  compare = commands.add_parser(
    "artistic-comparison",
    help="train a config with and without D weight clipping + input noise; compare diversity",
  )
  compare.add_argument(
    "--config", default=ARTISTIC_COMPARISON_CONFIG, help="FILE[:ARG] or NAME[:ARG]"
  )
  compare.add_argument("--workdir", required=True, help="one sub-directory per variant")
  compare.add_argument("--num-samples", type=int, default=1000)
  compare.add_argument("--seeds", type=int, default=1, help="runs per variant (seeds 0..S-1)")
  coverage = commands.add_parser(
    "coverage",
    help="PacGAN's Table 1: mode coverage, high quality and reverse KL of N seeds per 2-D "
    "dataset, beside the paper's rows",
  )
  coverage.add_argument(
    "--config", default=COVERAGE_CONFIG, help="FILE[:ARG] or NAME[:ARG], without dataset="
  )
  coverage.add_argument("--workdir", required=True, help="<dataset>/seed<k> per trial")
  coverage.add_argument("--trials", type=int, default=5, help="seeds 0..N-1 per dataset")
  coverage.add_argument("--datasets", default="ring8,grid25", help="comma-separated")


def run(args, overrides) -> None:
  """Runs the study ``args.command``; the command's own flags are the study function's keyword
  arguments (--noise-images: noise_images)."""
  from gans_jax import config_utils, studies, trials

  log = lambda line: print(line, flush=True)  # noqa: E731
  if args.command == "coverage":
    datasets = tuple(filter(None, args.datasets.split(",")))
    rows = trials.coverage_trials(
      args.config, args.workdir, datasets=datasets, trials=args.trials, overrides=overrides,
      log=log,
    )  # fmt: skip
    print(f"{trials.format_coverage(rows)}\n\nTrials:\n{trials.format_trials(rows)}")
    print(f"\nMean over the trials against steps:\n{trials.format_curve(rows)}")
    return
  run_study, table = {
    "ablation": (studies.ablation, studies.format_ablation),
    "noise-experiment": (studies.noise_experiment, studies.format_noise_table),
    "artistic-comparison": (studies.artistic_comparison, studies.format_comparison),
  }[args.command]
  options = {k: v for k, v in vars(args).items() if k not in ("command", "config", "workdir")}
  config = config_utils.load_config(args.config)
  config_utils.apply_overrides(config, overrides)
  print(table(run_study(config, args.workdir, **options, log=log)))
