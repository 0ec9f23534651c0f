package org.adjoint.kernels;

/**
 * {@link DirectConv}'s sizes: the source of one unit padded, and the result over its padded
 * width. {@code sourceChannels} planes of {@code height × width} padded by {@code padTop} rows
 * and {@code padLeft} columns on each side; results of {@code outHeight × outWidth}, a window of
 * {@code kernelHeight × kernelWidth} taps {@code dilation} apart, under tiles of
 * {@code fullRows} rows ({@link DirectConv#FULL_ROWS} but where a test asks for the other shape).
 */
record DirectConvGeometry(int sourceChannels, int height, int width, int padTop, int padLeft, int kernelHeight,
                          int kernelWidth, int dilation, int fullRows) {

    DirectConvGeometry {
        if (fullRows != VectorConvTile.ROWS && fullRows != VectorConvTile.SHORT_ROWS) {
            throw new IllegalArgumentException("DirectConv: full tiles of " + fullRows + " rows; they have "
                    + VectorConvTile.ROWS + " or " + VectorConvTile.SHORT_ROWS);
        }
    }

    /** Rows of the packed A and of the scratch: whole tiles, then one tile for the rest, zero rows past {@code m}. */
    int paddedRows(int m) {
        int whole = m / fullRows * fullRows;
        return whole + lastRows(m - whole);
    }

    /** The rows of the tile that takes the {@code rest} rows past the whole tiles (0 for none). */
    int lastRows(int rest) {
        if (rest == 0) {
            return 0;
        }
        return rest <= VectorConvTile.SHORT_ROWS ? VectorConvTile.SHORT_ROWS
                : rest <= VectorConvTile.MIDDLE_ROWS ? VectorConvTile.MIDDLE_ROWS : VectorConvTile.ROWS;
    }

    /** Rows of the tile that starts at row {@code r0} of a block of {@code m}. */
    int tileRows(int m, int r0) {
        int whole = m / fullRows * fullRows;
        return r0 < whole ? fullRows : lastRows(m - whole);
    }

    int paddedHeight() {
        return height + 2 * padTop;
    }

    int paddedWidth() {
        return width + 2 * padLeft;
    }

    int outHeight() {
        return paddedHeight() - dilation * (kernelHeight - 1);
    }

    int outWidth() {
        return paddedWidth() - dilation * (kernelWidth - 1);
    }

    int positions() {
        return outHeight() * outWidth();
    }

    boolean fits() {
        return outHeight() > 0 && outWidth() > 0;
    }

    /** Tiles of positions over the padded width, the last row's padding left out. */
    int tiles() {
        int span = (outHeight() - 1) * paddedWidth() + outWidth();
        return (span + VectorConvTile.COLUMNS - 1) / VectorConvTile.COLUMNS;
    }

    int plane() {
        return paddedHeight() * paddedWidth();
    }

    /** The padded buffer: the tiles of the last positions read up to a tile past the last plane. */
    int paddedSize() {
        return sourceChannels * plane() + VectorConvTile.COLUMNS;
    }
}
