const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB"];

/** A byte count as people read it: `1 GiB`, `512 MiB`, `1.5 GiB`, `100 bytes`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${UNITS[unit]}`;
}
