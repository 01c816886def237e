# bash completion for stintctl (installed as share/bash-completion/completions/stintctl).
# The commands and their options are read from the SYNOPSIS of `stintctl --help` (lines
# "    stintctl COMMAND [--option] [on|off]"), so a new command completes without editing this.

_stintctl_synopsis()
{
    "${1:-stintctl}" --help 2>/dev/null |
        sed -n '/^SYNOPSIS/,/^[A-Z]/s/^    stintctl \([a-z][a-z-]*\)\(.*\)$/\1\2/p'
}

_stintctl()
{
    local cur prev words cword
    _init_completion || return

    local synopsis cmd="" i
    synopsis=$(_stintctl_synopsis "${words[0]}")
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --socket | --timeout) ((i++)) ;;
        -*) ;;
        *)
            cmd=${words[i]}
            break
            ;;
        esac
    done

    case $prev in
    --socket)
        _filedir
        return
        ;;
    --timeout | --limit)
        return
        ;;
    esac

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(awk '{print $1}' <<<"$synopsis") --socket --timeout --help" \
            -- "$cur"))
        return
    fi
    # the command's line: its --options, and bare words such as on|off
    local line
    line=$(awk -v c="$cmd" '$1 == c { $1 = ""; print }' <<<"$synopsis")
    COMPREPLY=($(compgen -W "$(tr -s '[]|' '   ' <<<"$line" | tr ' ' '\n' |
        grep -E '^(--[a-z-]+|[a-z]+)$')" -- "$cur"))
} && complete -F _stintctl stintctl
