"""The options several commands share, kept apart so that building the parser (for
`--help` and `--version`) imports nothing heavy: no engine, no pyarrow, no aiohttp."""

from __future__ import annotations

import argparse

from bulkedit.core.errors import UsageError
from bulkedit.core.policy import ApiLimits, Rate, parse_rate
from bulkedit.core.verbosity import Verbosity

# The name that means "standard output" wherever a command writes a file (and "standard
# input" where it reads one).
STDOUT = "-"


def rate_flag(text: str) -> Rate:
    try:
        return parse_rate(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_api_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that talks to the API shares. Their defaults are ApiLimits';
    a flag left out is None here, so bulkedit.toml and the environment can set it."""
    add = parser.add_argument
    default = ApiLimits()
    add("--rate", type=rate_flag, metavar="N|auto",
        help="requests per second, never exceeded in any second "
             f"(default {default.rate:g}; 0 = no limit), or auto: find the API's rate as "
             "the run goes, starting at 10/s, never above --max-rate")
    add("--max-rate", type=float, metavar="N",
        help=f"with --rate auto, the most requests per second it may try (default "
             f"{default.max_rate:g})")
    add("--global-rate", type=float, metavar="N",
        help="requests per second over every account of a run together, beside each "
             "account's own rate (default: bulkedit.toml's [run] global_rate, else no cap)")
    add("--concurrency", type=int, metavar="N",
        help=f"requests in flight at most (default {default.concurrency})")
    add("--timeout", type=float, metavar="SECONDS",
        help=f"give up on a request after this long (default {default.timeout:g})")
    add("--max-attempts", type=int, metavar="N",
        help=f"attempts per request for transient failures (default {default.max_attempts})")
    add("--batch-size", type=int, metavar="N",
        help=f"ids per read of current values (default {default.batch_size}; halved if the "
             "API refuses it)")
    add("--backoff", type=float, metavar="SECONDS",
        help=f"first retry delay, doubled at each attempt (default {default.backoff:g})")
    add("--api-base", metavar="URL",
        help="API base URL (default $DAILYMOTION_API_BASE, then bulkedit.toml's [api] base, "
             "then the partner API); https, or http to this machine (the sandbox)")
    add("--allow-api-host", action="append", metavar="HOST",
        help="send credentials to this API host too (https only); Dailymotion's own and "
             "this machine's need no flag")
    add("--credentials", metavar="FILE",
        help="TOML file with api_key and api_secret (default: the DAILYMOTION_API_KEY and "
             "DAILYMOTION_API_SECRET environment variables)")
    add("--config", metavar="FILE",
        help="settings file (default: $BULKEDIT_CONFIG, else ./bulkedit.toml, else "
             "$XDG_CONFIG_HOME/bulkedit/bulkedit.toml, ~/.config/... when unset; `bulkedit "
             "config` shows which); flags win over it")
    add("--sandbox", action="store_true",
        help="talk to a local sandbox started for this run (no credentials needed)")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """--quiet, --verbose and --no-progress: every command has them (build_parser adds
    them to each). What they mean is core.verbosity's; `verbosity_of` reads them."""
    group = parser.add_argument_group("how much is said (on stderr)")
    loudness = group.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true",
                          help="say only errors: no progress, notices or summary (the data "
                               "asked for on stdout and the exit code are unchanged)")
    loudness.add_argument("-v", "--verbose", action="store_true",
                          help="say more: each retry and each throttled answer as it "
                               "happens")
    group.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar and no periodic progress lines")


def verbosity_of(args: argparse.Namespace) -> Verbosity:
    """The one place the flags become a Verbosity (a command without them: the default)."""
    return Verbosity(quiet=bool(getattr(args, "quiet", False)),
                     verbose=bool(getattr(args, "verbose", False)),
                     progress=bool(getattr(args, "progress", True)))


# The options that can send a command's data to standard output: (dest, flag as shown).
_STDOUT_OPTIONS = (("report", "--report -"), ("html", "--html -"),
                   ("summary_json", "--summary-json -"), ("output", "-o -"), ("log", "--log -"))


def stdout_claims(args: argparse.Namespace) -> list[str]:
    """The flags that ask for data on standard output (`--json`, or a `-` for a file).
    More than one is refused: two outputs in one pipe cannot be told apart."""
    claims = [flag for dest, flag in _STDOUT_OPTIONS if getattr(args, dest, None) == STDOUT]
    if getattr(args, "json", False) is True:
        claims.append("--json")
    if len(claims) > 1:
        raise UsageError(f"{' and '.join(claims)} both ask for standard output; give one "
                         "of them a file name")
    return claims


def data_on_stdout(args: argparse.Namespace) -> bool:
    """Whether stdout carries data (then everything else goes to stderr)."""
    return bool(stdout_claims(args))


def add_account_option(parser: argparse.ArgumentParser) -> None:
    """--account NAME (repeatable): the configured accounts a command uses (issue 30)."""
    parser.add_argument(
        "--account", action="append", metavar="NAME",
        help="the account of bulkedit.toml's [accounts.NAME] to use; repeat for several "
             "(default: $BULKEDIT_ACCOUNT, names separated by commas; else rows name theirs "
             "in an #account column, else [api] default_account). Given once to plan or "
             "apply, it is the account of every row without an #account cell")
