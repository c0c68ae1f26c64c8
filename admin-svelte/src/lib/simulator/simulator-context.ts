// "Start from this step" on a step card opens the editor's Try it panel there.
import { createContext } from 'svelte'

export interface TryItLauncher {
  startFrom(stepId: string): void
}

export const [getTryIt, setTryIt, hasTryIt] = createContext<TryItLauncher>()
