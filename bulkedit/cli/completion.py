"""`bulkedit completion bash|zsh|fish`: a shell completion script written from the parser
itself, so that it completes exactly the commands, options and choices `--help` shows.

The script is plain data for the shell (no Python runs at a Tab, no dependency such as
argcomplete): the commands, each command's options, which options take a value, their
choices, and which values are files or folders. Regenerate it after an upgrade.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass

from bulkedit import __version__

SHELLS = ("bash", "zsh", "fish")

# What a value or a positional completes to: a file, a folder, a command name, or nothing.
FILE, FOLDER, COMMAND = "file", "folder", "command"
_FILE_METAVARS = ("FILE", "PATH", "PLAN")


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]  # "-y", "--yes"
    help: str
    takes_value: bool = False
    metavar: str = ""
    choices: tuple[str, ...] = ()
    kind: str = ""  # FILE, FOLDER or "" for a value with nothing to offer


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    positional: str = ""  # FILE, FOLDER, COMMAND or "" (none, or nothing to offer)
    positional_name: str = ""
    positional_choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grammar:
    """What the parser accepts, as far as completing it goes."""

    options: tuple[Option, ...]  # the top level's (--help, --version)
    commands: tuple[Command, ...]

    @property
    def names(self) -> list[str]:
        return [command.name for command in self.commands]


def grammar(parser: argparse.ArgumentParser) -> Grammar:
    """The commands and options of `parser` (bulkedit's, from cli.main.build_parser)."""
    commands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                commands.append(_command(name, helps.get(name, ""), sub))
    return Grammar(_options(parser), tuple(commands))


def _command(name: str, help_text: str, parser: argparse.ArgumentParser) -> Command:
    positional, label = "", ""
    choices: tuple[str, ...] = ()
    for action in parser._actions:
        if action.option_strings:
            continue
        label = action.metavar if isinstance(action.metavar, str) else action.dest
        if action.choices:
            choices = tuple(str(c) for c in action.choices)
        positional = (COMMAND if action.dest == "topic" else
                      FOLDER if action.dest == "inbox" else
                      FILE if action.dest == "sheet" else "")
        break  # every command has one positional at most
    return Command(name, _short(help_text, clause=False), _options(parser), positional, label,
                   choices)


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    found = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        takes = action.nargs != 0
        metavar = action.metavar if isinstance(action.metavar, str) else (
            action.dest.upper() if takes else "")
        kind = ("" if not takes or action.choices else
                FOLDER if metavar == "DIR" else
                FILE if metavar.startswith(_FILE_METAVARS) else "")
        found.append(Option(tuple(action.option_strings), _short(action.help or ""), takes,
                            metavar, tuple(str(c) for c in action.choices or ()), kind))
    return tuple(found)


def _short(text: str, clause: bool = True) -> str:
    """A help text on one line for a shell's description: an option's first clause."""
    text = " ".join(text.replace("%%", "%").split())
    for stop in (" (", "; ") if clause else ():
        text = text.split(stop, 1)[0]
    return text if len(text) <= 70 else text[:69].rstrip() + "…"


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    written = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[shell]
    return written(grammar(parser))


def _words(words: Iterable[str]) -> str:
    """Words for a shell's single-quoted string; bulkedit's names never hold a quote."""
    joined = " ".join(words)
    if "'" in joined:
        raise ValueError(f"a quote in a completion word: {joined}")
    return f"'{joined}'"


# ----------------------------------------------------------------------------- bash

def bash_script(grammar: Grammar) -> str:
    lines = [
        f"# bulkedit {__version__} completion for bash, written by `bulkedit completion bash`.",
        "# This shell:  eval \"$(bulkedit completion bash)\"",
        "# Every shell: bulkedit completion bash > "
        "~/.local/share/bash-completion/completions/bulkedit",
        "_bulkedit_reply() {  # one reply a line: a file name may hold spaces or a '*'",
        "    local line",
        "    COMPREPLY=()",
        "    while IFS= read -r line; do COMPREPLY+=(\"$line\")",
        "    done < <(compgen \"$@\" -- \"$cur\")",
        "}",
        "_bulkedit() {",
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev='' command='' i",
        "    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}",
        "    # --option=value: bash splits the word at the '='",
        "    if [[ $cur == '=' ]]; then cur=''",
        "    elif [[ $prev == '=' ]] && (( COMP_CWORD > 1 )); then "
        "prev=${COMP_WORDS[COMP_CWORD-2]}",
        "    fi",
        "    for (( i = 1; i < COMP_CWORD; i++ )); do",
        "        if [[ ${COMP_WORDS[i]} != -* ]]; then command=${COMP_WORDS[i]}; break; fi",
        "    done",
        "    COMPREPLY=()",
        "    local options='' values='' kind='' taken=''",
        "    case $command in",
        "        '')",
        f"            options={_words(o for opt in grammar.options for o in opt.names)}",
        f"            values={_words(grammar.names)} ;;",
    ]
    for command in grammar.commands:
        lines.append(f"        {command.name})")
        names = (name for opt in command.options for name in opt.names)
        lines.append(f"            options={_words(names)}")
        valued = [opt for opt in command.options if opt.takes_value]
        if valued:
            lines.append("            case $prev in")
            for opt in valued:
                then = (f"values={_words(opt.choices)}" if opt.choices else
                        f"kind={opt.kind}" if opt.kind else ":")
                lines.append(f"                {'|'.join(opt.names)}) taken=1; {then} ;;")
            lines.append("            esac")
        if command.positional == COMMAND:
            lines.append(f"            [[ -z $taken ]] && values={_words(grammar.names)}")
        elif command.positional_choices:
            lines.append(f"            [[ -z $taken ]] && "
                         f"values={_words(command.positional_choices)}")
        elif command.positional:
            lines.append(f"            [[ -z $taken ]] && kind={command.positional}")
        lines.append("            ;;")
    lines += [
        "        *) return 0 ;;",
        "    esac",
        "    if [[ -z $taken && ( $cur == -* || ( -z $values && -z $kind ) ) ]]; then",
        "        _bulkedit_reply -W \"$options\"",
        "    elif [[ -n $values ]]; then",
        "        _bulkedit_reply -W \"$values\"",
        "    elif [[ $kind == file || $kind == folder ]]; then",
        "        compopt -o filenames 2>/dev/null",
        "        if [[ $kind == file ]]; then _bulkedit_reply -f; else _bulkedit_reply -d; fi",
        "    fi",
        "    return 0",
        "}",
        "complete -F _bulkedit bulkedit",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- zsh

def _zsh_escaped(text: str) -> str:
    """Text for inside an _arguments spec: its brackets and colons are syntax."""
    for char in ("\\", "[", "]", ":"):
        text = text.replace(char, "\\" + char)
    return text


def _zsh_option(option: Option) -> list[str]:
    specs = []
    for name in option.names:
        spec = f"{name}[{_zsh_escaped(option.help)}]"
        if option.takes_value:
            action = ("(" + " ".join(option.choices) + ")" if option.choices else
                      "_files -/" if option.kind == FOLDER else
                      "_files" if option.kind == FILE else " ")
            spec += f":{_zsh_escaped(option.metavar.lower())}:{action}"
        specs.append(_sh_quoted(spec))
    return specs


def _sh_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def zsh_script(grammar: Grammar) -> str:
    described = [_sh_quoted(f"{c.name}:{c.help}") for c in grammar.commands]
    lines = [
        "#compdef bulkedit",
        f"# bulkedit {__version__} completion for zsh, written by `bulkedit completion zsh`.",
        "# This shell (after compinit):  eval \"$(bulkedit completion zsh)\"",
        "# Every shell: bulkedit completion zsh > ~/.zfunc/_bulkedit, with ~/.zfunc in",
        "# $fpath before compinit runs.",
        "_bulkedit() {",
        "    local curcontext=$curcontext state line ret=1",
        "    _arguments -C \\",
        *(f"        {spec} \\" for opt in grammar.options for spec in _zsh_option(opt)),
        "        '1:command:->command' \\",
        "        '*::argument:->argument' && ret=0",
        "    case $state in",
        "        command)",
        "            local -a commands",
        "            commands=(",
        *(f"                {item}" for item in described),
        "            )",
        "            _describe -t commands 'bulkedit command' commands && ret=0 ;;",
        "        argument)",
        "            curcontext=${curcontext%:*:*}:bulkedit-$words[1]:",
        "            case $words[1] in",
    ]
    for command in grammar.commands:
        specs = [spec for opt in command.options for spec in _zsh_option(opt)]
        label = _zsh_escaped(command.positional_name.lower() or "value")
        if command.positional == COMMAND:
            specs.append(_sh_quoted(f"1:{label}:(" + " ".join(grammar.names) + ")"))
        elif command.positional_choices:
            specs.append(_sh_quoted(f"1:{label}:(" + " ".join(command.positional_choices)
                                    + ")"))
        elif command.positional:
            specs.append(_sh_quoted(f"1:{label}:"
                                    + ("_files -/" if command.positional == FOLDER
                                       else "_files")))
        elif command.positional_name:
            specs.append(_sh_quoted(f"1:{label}: "))
        lines.append(f"                {command.name})")
        lines.append("                    _arguments \\")
        lines += [f"                        {spec} \\" for spec in specs]
        lines.append("                        && ret=0 ;;")
    lines += [
        "            esac ;;",
        "    esac",
        "    return ret",
        "}",
        "if [[ $funcstack[1] == _bulkedit ]]; then",
        "    _bulkedit \"$@\"",
        "else",
        "    compdef _bulkedit bulkedit",
        "fi",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- fish

def _fish_quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_option(condition: str, option: Option) -> str:
    parts = ["complete -c bulkedit", f"-n {_fish_quoted(condition)}"]
    for name in option.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if option.takes_value:
        if option.choices:
            parts.append(f"-x -a {_fish_quoted(' '.join(option.choices))}")
        elif option.kind == FOLDER:
            parts.append("-x -a '(__fish_complete_directories)'")
        elif option.kind == FILE:
            parts.append("-r -F")
        else:
            parts.append("-x")
    parts.append(f"-d {_fish_quoted(option.help)}")
    return " ".join(parts)


def fish_script(grammar: Grammar) -> str:
    lines = [
        f"# bulkedit {__version__} completion for fish, written by `bulkedit completion fish`.",
        "# This shell:  bulkedit completion fish | source",
        "# Every shell: bulkedit completion fish > ~/.config/fish/completions/bulkedit.fish",
        "complete -c bulkedit -e",
        "complete -c bulkedit -f",
    ]
    top = "__fish_use_subcommand"
    lines += [_fish_option(top, opt) for opt in grammar.options]
    lines += [f"complete -c bulkedit -n {top} -a {c.name} -d {_fish_quoted(c.help)}"
              for c in grammar.commands]
    for command in grammar.commands:
        seen = f"__fish_seen_subcommand_from {command.name}"
        lines += [_fish_option(seen, opt) for opt in command.options]
        there = f"complete -c bulkedit -n {_fish_quoted(seen)}"
        if command.positional == COMMAND:
            lines.append(f"{there} -x -a {_fish_quoted(' '.join(grammar.names))}")
        elif command.positional_choices:
            lines.append(f"{there} -x -a {_fish_quoted(' '.join(command.positional_choices))}")
        elif command.positional == FOLDER:
            lines.append(f"{there} -x -a '(__fish_complete_directories)'")
        elif command.positional == FILE:
            lines.append(f"{there} -F")
    return "\n".join(lines) + "\n"

