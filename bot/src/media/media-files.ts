/** A stored media file as the server hands it out. */
export interface StoredMedia {
  bytes: Uint8Array
  /** The server's Content-Type, when it said one. */
  contentType?: string
  /** The file's name, when the source knows one (the server's endpoint does not: the media library has it). */
  filename?: string
}

/**
 * Where the bot reads a space's media files by id (the SHA-256 of the
 * bytes). The bot sends a file's bytes to Telegram only the first time;
 * afterwards Telegram's file_id (FileIdStore), so this is read once per
 * file and bot.
 */
export interface MediaFiles {
  /** The file, or null when there is no file with this id (404). Throws when it cannot tell (server unreachable, 5xx). */
  read(id: string): Promise<StoredMedia | null>
}
