// Entry of the Mini App page (/miniapp): a separate, small bundle that shares
// nothing with the admin but shared-docs and the Hocuspocus provider.
import { mount } from 'svelte'
import MiniApp from './mini-app.svelte'

const target = document.getElementById('miniapp')
if (!target) throw new Error('miniapp.html has no #miniapp element')
export default mount(MiniApp, { target })
