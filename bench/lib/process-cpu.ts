import { readFileSync } from 'node:fs'

// Linux reports CPU time in clock ticks; 100 per second on every common
// configuration (USER_HZ), which `getconf CLK_TCK` would confirm.
const TICKS_PER_SECOND = 100

/**
 * CPU seconds (user + system) a process has used so far, read from
 * /proc/<pid>/stat; null where there is no procfs (the figure is then left out).
 */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return null
  }
}

/** CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}
