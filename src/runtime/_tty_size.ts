/**
 * A shell snippet that waits (up to a second) until the TTY has a size. The
 * engine sizes a TTY only once its process has started (before API 1.42 for
 * execs, always for containers), so a command that looks at once would see
 * 0x0: `stty size` fails in a fresh `docker run -t` or `docker exec -t`.
 * Images without `stty` skip the wait.
 */
export const WAIT_FOR_TTY_SIZE = `if command -v stty >/dev/null 2>&1; then
  n=0
  while [ $n -lt 100 ]; do
    case "$(stty size 2>/dev/null)" in
      "" | "0 0") sleep 0.01 2>/dev/null || break; n=$((n + 1)) ;;
      *) break ;;
    esac
  done
fi`;

/**
 * `cmd` run by `shell` once the TTY has its size: `shell -c '<wait>; exec "$@"' capsule cmd...`.
 * The command keeps the shell's pid, so signals reach it as before.
 */
export function onceSized(shell: string, cmd: readonly string[]): string[] {
  return [shell, "-c", `${WAIT_FOR_TTY_SIZE}\nexec "$@"`, "capsule", ...cmd];
}
