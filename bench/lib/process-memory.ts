import { readFileSync } from 'node:fs'

/** A process's resident set size now (VmRSS, Linux), in bytes. */
export function vmRss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1]) * 1024
}

/** VmRSS once it has stopped moving (< 0.5 % over 4 samples 500 ms apart), or after `timeoutMs`. */
export async function settledRss(pid: number, timeoutMs: number): Promise<number> {
  const samples: number[] = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500))
    samples.push(vmRss(pid))
    const last = samples.slice(-4)
    if (last.length === 4 && (Math.max(...last) - Math.min(...last)) / Math.max(...last) < 0.005) return last.at(-1)!
    if (Date.now() > deadline) return samples.at(-1)!
  }
}

/** A process's resident memory now (VmRSS) and at its peak (VmHWM), in MiB to one decimal (Linux). */
export function memoryMb(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  const round = (value: number) => Math.round(value * 10) / 10
  return { rssMb: round(kb('VmRSS') / 1024), peakRssMb: round(kb('VmHWM') / 1024) }
}
