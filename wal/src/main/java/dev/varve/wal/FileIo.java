// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Every file operation whose failure or tearing matters to durability, behind one small interface
 * so tests can inject a double that fails or tears the N-th write or force. Directory listing
 * and the lock file use {@link Files} directly.
 */
interface FileIo {

    /** The real file system. */
    FileIo REAL = new FileIo() {
        @Override
        public Channel create(Path file) throws IOException {
            return new RealChannel(FileChannel.open(
                    file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
        }

        @Override
        public Channel openExisting(Path file) throws IOException {
            return new RealChannel(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
        }

        @Override
        public void forceDirectory(Path dir) throws IOException {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }

        @Override
        public void moveAtomically(Path from, Path to) throws IOException {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }

        @Override
        public void delete(Path file) throws IOException {
            Files.deleteIfExists(file);
        }
    };

    /**
     * Creates a new empty file open for reading and writing.
     *
     * @throws java.nio.file.FileAlreadyExistsException if it exists
     */
    Channel create(Path file) throws IOException;

    /** Opens an existing file for reading and writing. */
    Channel openExisting(Path file) throws IOException;

    /** Forces the directory's entries (created, renamed, deleted files) to the device. */
    void forceDirectory(Path dir) throws IOException;

    /** Renames atomically, replacing nothing. */
    void moveAtomically(Path from, Path to) throws IOException;

    /** Deletes a file if present. */
    void delete(Path file) throws IOException;

    /** An open file: positional reads and writes, force, size, truncate. */
    interface Channel extends Closeable {
        /** Writes all of {@code src} at {@code position} (looping over short writes). */
        void write(ByteBuffer src, long position) throws IOException;

        /** Reads up to {@code dst.remaining()} bytes at {@code position}; -1 at end of file. */
        int read(ByteBuffer dst, long position) throws IOException;

        /** Forces the file's content and size to the device. */
        void force() throws IOException;

        /** The file's size in bytes. */
        long size() throws IOException;

        /** Cuts the file to {@code size} bytes. */
        void truncate(long size) throws IOException;
    }

    /** A {@link Channel} over a {@link FileChannel}. */
    final class RealChannel implements Channel {
        private final FileChannel ch;

        RealChannel(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            long p = position;
            while (src.hasRemaining()) {
                p += ch.write(src, p);
            }
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return ch.read(dst, position);
        }

        @Override
        public void force() throws IOException {
            ch.force(true);
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            ch.truncate(size);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
