import { mount } from 'svelte'
import { registerSW } from 'virtual:pwa-register'
import App from './app.svelte'
import { AppUpdateState } from './lib/app-update/app-update-state.svelte.ts'
import './app.css'

const target = document.getElementById('app')
if (!target) throw new Error('index.html has no #app element')
// The offline app shell's service worker (vite.config.ts): registered at start, its updates offered by a prompt.
const updates = new AppUpdateState(registerSW)
export default mount(App, { target, props: { updates } })
