# Stages and options for recipes/*/run.sh, as in icefall's prepare.sh and Kaldi's parse_options.sh:
# `--stage N` starts at stage N and `--stop-stage M` ends after stage M (default: every stage), so a rerun
# need not regenerate its data. A recipe may declare its own options as variables before sourcing this
# file (`test_speaker=jackson` is set by `--test-speaker NAME`); any other `--name` is refused.
# Sourced before a recipe reads its own arguments: it takes these options off the front of "$@".
stage=0
stop_stage=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --*=*)
      echo "error: give options as '--name value', before the other arguments: $1" >&2
      exit 2
      ;;
    --stage | --stop-stage)
      if ! [[ ${2-} =~ ^[0-9]+$ ]]; then
        echo "error: $1 takes a stage number (0, 1, ...), not '${2-}'" >&2
        exit 2
      fi
      if [ "$1" = --stage ]; then stage=$2; else stop_stage=$2; fi
      shift 2
      ;;
    --*)
      name=${1#--}
      name=${name//-/_}
      if ! [[ $name =~ ^[a-z_]+$ ]] || [ -z "${!name+set}" ]; then
        echo "error: unknown option $1 (this recipe takes --stage, --stop-stage${recipe_options:+, $recipe_options})" >&2
        exit 2
      fi
      if [ $# -lt 2 ]; then
        echo "error: $1 needs a value" >&2
        exit 2
      fi
      printf -v "$name" '%s' "$2"
      shift 2
      ;;
    *) break ;;
  esac
done

# run_stage N WHAT: whether stage N is within --stage and --stop-stage; if so it says so.
run_stage() {
  if [ "$stage" -le "$1" ] && [ "$1" -le "$stop_stage" ]; then
    echo "== stage $1: $2"
    return 0
  fi
  return 1
}
