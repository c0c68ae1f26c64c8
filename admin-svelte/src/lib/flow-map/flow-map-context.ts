// The map's state, handed to each node component: Svelte Flow renders the
// nodes itself and passes them only their id and data.
import { createContext } from 'svelte'
import type { FlowMapState } from './flow-map-state.svelte.ts'

export const [getFlowMap, setFlowMap] = createContext<FlowMapState>()
