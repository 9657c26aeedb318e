/** One stream per session; the category is what the projector and `readAll` filter on. */
export const SESSION_CATEGORY = 'authSession';

export function sessionStreamName(sessionId: string): string {
  return `${SESSION_CATEGORY}-${sessionId}`;
}

/** The category of a stream is the part of its name before the first `-`. */
export function categoryOf(streamName: string): string {
  const dash = streamName.indexOf('-');
  return dash === -1 ? streamName : streamName.slice(0, dash);
}

/** The session id of a session stream, or `null` for a stream of another category. */
export function sessionIdOfStream(streamName: string): string | null {
  const prefix = `${SESSION_CATEGORY}-`;
  return streamName.startsWith(prefix) ? streamName.slice(prefix.length) : null;
}
