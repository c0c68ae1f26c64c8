import type { MediaKind } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import type { MediaFiles, StoredMedia } from '../media/media-files.ts'
import { MediaSender } from '../media/media-sender.ts'
import type { FileIdStore } from '../media/pg-file-id-store.ts'

/**
 * The simulator's "Telegram" already holds every stored file under its
 * media id, so the real MediaSender sends each item by that id as if it
 * were a file_id: the step goes through the same checks and the same
 * sendPhoto / sendMediaGroup calls as for a real user, the recording
 * Telegram reads the id back to show the file, and no byte is read or
 * uploaded anywhere.
 */
class MediaIdsAsFileIds implements FileIdStore {
  async get(_botId: number, mediaId: string, _kind: MediaKind): Promise<string> {
    return mediaId
  }
  async remember(): Promise<void> {}
  async forget(): Promise<void> {}
}

/** Never asked (every item has its "file_id"); refuses rather than fetch, should that change. */
class NoFiles implements MediaFiles {
  async read(id: string): Promise<StoredMedia | null> {
    throw new Error(`the simulator reads no media bytes (asked for ${id})`)
  }
}

export function simulatedMediaSender(log: Logger): MediaSender {
  return new MediaSender({ files: new NoFiles(), fileIds: new MediaIdsAsFileIds(), log })
}
