// The scenario editor's preview state, handed to each step card's preview
// without threading it through the card's props.
import { createContext } from 'svelte'
import type { StepPreviewState } from './step-preview-state.svelte.ts'

export const [getStepPreview, setStepPreview, hasStepPreview] = createContext<StepPreviewState>()
