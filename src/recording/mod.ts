/** Recordings of TTY sessions in asciicast v2. */
export * from "./asciicast_writer.ts";
export * from "./record_session.ts";
