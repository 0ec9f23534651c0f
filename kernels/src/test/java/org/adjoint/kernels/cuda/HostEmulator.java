package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the kernels of {@code adjoint.cu} on the CPU, so that their arithmetic and indexing
 * can be checked against the Java kernels on a machine without a GPU.
 *
 * <p>A small C++ program includes the CUDA source with the CUDA keywords defined away,
 * supplies {@code threadIdx}, {@code blockIdx}, {@code blockDim}, {@code gridDim} and
 * {@code __syncthreads}, and runs a launch block after block: kernels that synchronise get
 * one real thread per GPU thread at a barrier, the others run their threads in turn.
 * {@code __shared__} arrays become function statics, which is what they are to one block.
 * The host's {@code expf}, {@code tanhf} and friends stand in for CUDA's, so only the
 * logic is under test here, not the device's rounding of transcendentals.
 *
 * <p>One process per launch; arguments go in as text (floats as their bit patterns), every
 * buffer comes back in the order it was passed.
 */
final class HostEmulator {

    /** A null device pointer. */
    static final Object NULL = new Object();

    /** The same pointer as an earlier buffer argument (counted among buffers only, from 0). */
    record Alias(int buffer) {
    }

    /**
     * A {@code struct Strided} argument.
     *
     * @param shape axis lengths
     * @param a     strides of the first operand (or output strides, for {@code sum_to})
     * @param b     strides of the second operand
     */
    record Space(long[] shape, long[] a, long[] b) {
    }

    /**
     * A multi-tensor kernel's table ({@code const long long*}): each entry a {@code Long} or an
     * {@link Alias}, which stands for the address of a buffer argument (counted among buffers,
     * from 0, wherever it comes in the list). Not returned.
     *
     * @param entries the table's values in order
     */
    record Table(Object... entries) {
    }

    /**
     * A struct passed by value, as its bytes ({@code struct AttentionLayout}).
     *
     * @param data the struct's bytes, native order
     */
    record Bytes(byte[] data) {
    }

    private static final Duration COMPILE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

    private final Path directory;
    private final Path executable;
    private int launches;

    private HostEmulator(Path directory, Path executable) {
        this.directory = directory;
        this.executable = executable;
    }

    /**
     * Compiles the emulator with the C++ compiler {@code g++}.
     *
     * @param directory where to put the sources and the program
     * @return the emulator
     * @throws IOException when files cannot be written or the compiler started
     */
    static HostEmulator compile(Path directory) throws IOException {
        Files.writeString(directory.resolve("adjoint.cu"), CudaKernelSource.source(), StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("emulator.cpp"), SOURCE, StandardCharsets.UTF_8);
        Path executable = directory.resolve("emulator");
        // No contraction into FMA on the host either, and the pragmas are nvcc's.
        ExternalTool.Result result = ExternalTool.run(directory, null, COMPILE_TIMEOUT, List.of(
                "g++", "-std=c++17", "-O1", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror",
                "-Wno-unknown-pragmas", "-pthread", "-o", executable.toString(), "emulator.cpp"));
        if (result.exitCode() != 0) {
            fail("g++ could not compile the kernel emulator (exit " + result.exitCode() + "):\n" + result.output());
        }
        return new HostEmulator(directory, executable);
    }

    /**
     * The layout of {@code struct Strided} as the compiler sees it.
     *
     * @return size, alignment, then the offsets of rank, shape, a and b
     * @throws IOException when the program cannot be run
     */
    long[] stridedLayout() throws IOException {
        String[] fields = execute("layout\n").trim().split(" ");
        long[] layout = new long[fields.length];
        for (int k = 0; k < fields.length; k++) {
            layout[k] = Long.parseLong(fields[k]);
        }
        return layout;
    }

    /**
     * Launches a kernel on a 1-D grid.
     *
     * @param kernel    the entry point
     * @param grid      blocks
     * @param block     threads per block
     * @param arguments in the kernel's order: {@code Integer} (int), {@code Long} (long long),
     *                  {@code Float}, {@code float[]} (a buffer), {@link #NULL}, {@link Alias},
     *                  {@link Space}, {@link Table}, {@link Bytes}
     * @return every buffer after the launch, in argument order (aliases and nulls left out)
     * @throws IOException when the program cannot be run
     */
    List<float[]> launch(String kernel, int grid, int block, Object... arguments) throws IOException {
        StringBuilder command = new StringBuilder(kernel).append(' ').append(grid).append(' ').append(block);
        for (Object argument : arguments) {
            command.append(' ');
            switch (argument) {
                case Integer value -> command.append("i ").append(value);
                case Long value -> command.append("l ").append(value);
                case Float value -> command.append("f ").append(hex(value));
                case float[] values -> {
                    command.append("p ").append(values.length);
                    for (float value : values) {
                        command.append(' ').append(hex(value));
                    }
                }
                case Alias alias -> command.append("a ").append(alias.buffer());
                case Bytes bytes -> {
                    command.append("x ").append(bytes.data().length);
                    for (byte value : bytes.data()) {
                        command.append(' ').append(value & 0xFF);
                    }
                }
                case Table table -> {
                    command.append("t ").append(table.entries().length);
                    for (Object entry : table.entries()) {
                        switch (entry) {
                            case Long value -> command.append(" v ").append(value);
                            case Alias alias -> command.append(" b ").append(alias.buffer());
                            default -> throw new IllegalArgumentException("cannot put " + entry + " in a table");
                        }
                    }
                }
                case Space space -> {
                    int rank = space.shape().length;
                    command.append("s ").append(rank);
                    for (long[] axis : new long[][] {space.shape(), space.a(), space.b()}) {
                        assertEquals(rank, axis.length, "Space arrays must have the rank's length");
                        for (long value : axis) {
                            command.append(' ').append(value);
                        }
                    }
                }
                default -> {
                    if (argument != NULL) {
                        throw new IllegalArgumentException("cannot pass " + argument + " to a kernel");
                    }
                    command.append("p -1");
                }
            }
        }
        command.append(" end\n");
        List<float[]> buffers = new ArrayList<>();
        for (String line : execute(command.toString()).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.trim().split(" ");
            float[] values = new float[Integer.parseInt(fields[0])];
            for (int k = 0; k < values.length; k++) {
                values[k] = Float.intBitsToFloat(Integer.parseUnsignedInt(fields[k + 1], 16));
            }
            buffers.add(values);
        }
        return buffers;
    }

    private String execute(String input) throws IOException {
        Path file = directory.resolve("launch-" + launches++ + ".txt");
        Files.writeString(file, input, StandardCharsets.US_ASCII);
        ExternalTool.Result result = ExternalTool.run(directory, file, RUN_TIMEOUT, List.of(executable.toString()));
        if (result.exitCode() != 0) {
            fail("emulator failed (exit " + result.exitCode() + ") on " + abbreviate(input) + ":\n" + result.output());
        }
        return result.output();
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text.strip() : text.substring(0, 200) + "...";
    }

    private static String hex(float value) {
        return Integer.toHexString(Float.floatToRawIntBits(value));
    }

    private static final String SOURCE = """
            // Runs the kernels of adjoint.cu on the CPU: blocks one after another, the threads of a block
            // either one after another or, for kernels that synchronise, as real threads at a barrier.
            #include <condition_variable>
            #include <cstddef>
            #include <cstdint>
            #include <cstdio>
            #include <cstdlib>
            #include <cstring>
            #include <functional>
            #include <map>
            #include <memory>
            #include <math.h>
            #include <mutex>
            #include <string>
            #include <thread>
            #include <vector>

            struct EmulatedDim {
                unsigned int x, y, z;
            };

            static thread_local EmulatedDim threadIdx;
            static EmulatedDim blockIdx;
            static EmulatedDim blockDim;
            static EmulatedDim gridDim;

            // A barrier that threads leave for good when their kernel returns, as exited GPU threads do.
            class Barrier {
            public:
                explicit Barrier(unsigned int count) : expected(count) {}
                void arriveAndWait() {
                    std::unique_lock<std::mutex> lock(mutex);
                    unsigned long long phase = generation;
                    if (++arrived == expected) {
                        release();
                    } else {
                        changed.wait(lock, [&] { return generation != phase; });
                    }
                }
                void drop() {
                    std::unique_lock<std::mutex> lock(mutex);
                    expected--;
                    if (expected > 0 && arrived == expected) {
                        release();
                    }
                }
            private:
                void release() {
                    arrived = 0;
                    generation++;
                    changed.notify_all();
                }
                std::mutex mutex;
                std::condition_variable changed;
                unsigned int expected;
                unsigned int arrived = 0;
                unsigned long long generation = 0;
            };

            static Barrier* blockBarrier;

            static void __syncthreads() {
                blockBarrier->arriveAndWait();
            }

            // __shfl_xor_sync among `width` neighbouring threads of a block: they meet at a barrier of
            // their own, read each other's values, and meet again before the slots are written anew.
            struct ShuffleGroup {
                explicit ShuffleGroup(unsigned int width) : barrier(width), values(width) {}
                Barrier barrier;
                std::vector<float> values;
            };
            static std::mutex shuffleMutex;
            static std::map<unsigned int, std::unique_ptr<ShuffleGroup>> shuffleGroups;

            static float __shfl_xor_sync(unsigned int mask, float value, int laneMask, int width) {
                // The mask must name exactly the lanes of the caller's group of `width`, as the kernels' do.
                unsigned int lanes = width == 32 ? 0xffffffffu
                        : ((1u << width) - 1u) << (threadIdx.x % 32u / (unsigned int) width * (unsigned int) width);
                if (mask != lanes) {
                    std::fprintf(stderr, "emulator: __shfl_xor_sync mask %08x in thread %u, expected %08x%c", mask,
                                 threadIdx.x, lanes, 10);
                    std::exit(3);
                }
                ShuffleGroup* group;
                {
                    std::lock_guard<std::mutex> lock(shuffleMutex);
                    std::unique_ptr<ShuffleGroup>& slot = shuffleGroups[threadIdx.x / (unsigned int) width];
                    if (!slot) {
                        slot = std::make_unique<ShuffleGroup>((unsigned int) width);
                    }
                    group = slot.get();
                }
                unsigned int lane = threadIdx.x % (unsigned int) width;
                group->values[lane] = value;
                group->barrier.arriveAndWait();
                float other = group->values[lane ^ (unsigned int) laneMask];
                group->barrier.arriveAndWait();
                return other;
            }

            struct alignas(16) float4 {
                float x, y, z, w;
            };

            #define __global__
            #define __device__
            #define __host__
            #define __forceinline__ inline
            #define __shared__ static
            #define __align__(n) __attribute__((aligned(n)))

            #include "adjoint.cu"

            static void launch(unsigned int grid, unsigned int block, bool synchronises, const std::function<void()>& kernel) {
                gridDim = {grid, 1, 1};
                blockDim = {block, 1, 1};
                for (unsigned int b = 0; b < grid; b++) {
                    blockIdx = {b, 0, 0};
                    if (!synchronises) {
                        for (unsigned int t = 0; t < block; t++) {
                            threadIdx = {t, 0, 0};
                            kernel();
                        }
                        continue;
                    }
                    Barrier barrier(block);
                    blockBarrier = &barrier;
                    shuffleGroups.clear();
                    std::vector<std::thread> threads;
                    for (unsigned int t = 0; t < block; t++) {
                        threads.emplace_back([&barrier, &kernel, t] {
                            threadIdx = {t, 0, 0};
                            kernel();
                            barrier.drop();
                        });
                    }
                    for (std::thread& thread : threads) {
                        thread.join();
                    }
                }
            }

            struct Argument {
                long long integer = 0;
                float real = 0;
                float* pointer = nullptr;
                Strided strided = {};
                const long long* table = nullptr;
                std::vector<unsigned char> bytes;
            };

            static std::vector<std::vector<float>> buffers;
            static std::vector<std::vector<long long>> tables;
            struct BufferReference {
                size_t table;
                size_t position;
            };
            static std::vector<BufferReference> bufferReferences;

            static std::string token() {
                char text[64];
                if (std::scanf("%63s", text) != 1) {
                    std::fprintf(stderr, "emulator: unexpected end of input%c", 10);
                    std::exit(2);
                }
                return text;
            }

            static float bitsToFloat(const std::string& hex) {
                uint32_t bits = (uint32_t) std::strtoul(hex.c_str(), nullptr, 16);
                float value;
                std::memcpy(&value, &bits, sizeof value);
                return value;
            }

            static Argument readArgument(const std::string& kind) {
                Argument argument;
                if (kind == "i" || kind == "l") {
                    argument.integer = std::atoll(token().c_str());
                } else if (kind == "f") {
                    argument.real = bitsToFloat(token());
                } else if (kind == "p") {
                    long long count = std::atoll(token().c_str());
                    if (count >= 0) {
                        buffers.emplace_back((size_t) count + 1); // one spare element: never a null data()
                        for (long long k = 0; k < count; k++) {
                            buffers.back()[k] = bitsToFloat(token());
                        }
                        argument.pointer = buffers.back().data();
                    }
                } else if (kind == "a") {
                    argument.pointer = buffers.at((size_t) std::atoll(token().c_str())).data();
                } else if (kind == "x") {
                    long long count = std::atoll(token().c_str());
                    argument.bytes.resize((size_t) count);
                    for (long long k = 0; k < count; k++) {
                        argument.bytes[(size_t) k] = (unsigned char) std::atoi(token().c_str());
                    }
                } else if (kind == "t") {
                    long long count = std::atoll(token().c_str());
                    tables.emplace_back((size_t) count + 1);
                    for (long long k = 0; k < count; k++) {
                        std::string entry = token();
                        long long value = std::atoll(token().c_str());
                        tables.back()[k] = value;
                        if (entry == "b") {
                            // Resolved once every argument is read: the buffer may come later.
                            bufferReferences.push_back({tables.size() - 1, (size_t) k});
                        }
                    }
                    argument.table = tables.back().data();
                } else if (kind == "s") {
                    Strided& s = argument.strided;
                    s.rank = std::atoi(token().c_str());
                    for (int k = 0; k < s.rank; k++) s.shape[k] = std::atoll(token().c_str());
                    for (int k = 0; k < s.rank; k++) s.a[k] = std::atoll(token().c_str());
                    for (int k = 0; k < s.rank; k++) s.b[k] = std::atoll(token().c_str());
                } else {
                    std::fprintf(stderr, "emulator: unknown argument kind %s%c", kind.c_str(), 10);
                    std::exit(2);
                }
                return argument;
            }

            int main() {
                std::string name = token();
                if (name == "layout") {
                    std::printf("%zu %zu %zu %zu %zu %zu%c", sizeof(Strided), alignof(Strided), offsetof(Strided, rank),
                                offsetof(Strided, shape), offsetof(Strided, a), offsetof(Strided, b), 10);
                    return 0;
                }
                unsigned int grid = (unsigned int) std::atol(token().c_str());
                unsigned int block = (unsigned int) std::atol(token().c_str());
                std::vector<Argument> args;
                buffers.reserve(16);
                for (std::string kind = token(); kind != "end"; kind = token()) {
                    args.push_back(readArgument(kind));
                }
                for (const BufferReference& reference : bufferReferences) {
                    long long& entry = tables[reference.table][reference.position];
                    entry = (long long) (intptr_t) buffers.at((size_t) entry).data();
                }
                auto P = [&](int k) { return args.at(k).pointer; };
                auto F = [&](int k) { return args.at(k).real; };
                auto I = [&](int k) { return (int) args.at(k).integer; };
                auto L = [&](int k) { return args.at(k).integer; };
                auto S = [&](int k) { return args.at(k).strided; };
                auto T = [&](int k) { return args.at(k).table; };
                auto A = [&](int k) {
                    AttentionLayout layout;
                    if (args.at(k).bytes.size() != sizeof layout) {
                        std::fprintf(stderr, "emulator: argument %d is not an AttentionLayout%c", k, 10);
                        std::exit(2);
                    }
                    std::memcpy(&layout, args.at(k).bytes.data(), sizeof layout);
                    return layout;
                };
                auto D = [&](int k) { return (double*) args.at(k).pointer; };
                if (name == "fill") {
                    launch(grid, block, false, [&] { fill(P(0), F(1), L(2)); });
                } else if (name == "dropout_mask") {
                    launch(grid, block, false, [&] { dropout_mask(L(0), F(1), P(2), L(3)); });
                } else if (name == "layer_norm") {
                    launch(grid, block, true, [&] { layer_norm(P(0), P(1), P(2), I(3), I(4), F(5), P(6), P(7), P(8)); });
                } else if (name == "layer_norm_grad") {
                    launch(grid, block, true, [&] { layer_norm_grad(P(0), P(1), P(2), P(3), P(4), I(5), I(6), P(7)); });
                } else if (name == "layer_norm_grad_weight") {
                    launch(grid, block, false, [&] { layer_norm_grad_weight(P(0), P(1), P(2), P(3), I(4), I(5), I(6), P(7)); });
                } else if (name == "adam") {
                    launch(grid, block, false, [&] { adam(P(0), P(1), P(2), P(3), L(4), F(5), F(6), F(7), F(8), F(9), F(10), F(11)); });
                } else if (name == "fill_many") {
                    launch(grid, block, false, [&] { fill_many(T(0), I(1), L(2), L(3), F(4)); });
                } else if (name == "axpy_many") {
                    launch(grid, block, false, [&] { axpy_many(T(0), I(1), L(2), L(3), F(4)); });
                } else if (name == "adam_many") {
                    launch(grid, block, false, [&] {
                        adam_many(T(0), I(1), L(2), L(3), F(4), F(5), F(6), F(7), F(8), F(9), F(10));
                    });
                } else if (name == "squares_many") {
                    launch(grid, block, true, [&] { squares_many(T(0), I(1), L(2), L(3), D(4)); });
                } else if (name == "norm_from_squares") {
                    launch(grid, block, true, [&] { norm_from_squares(D(0), L(1), P(2)); });
                } else if (name == "clip_many") {
                    launch(grid, block, false, [&] { clip_many(T(0), I(1), L(2), L(3), P(4), F(5)); });
                } else if (name == "axpy") {
                    launch(grid, block, false, [&] { axpy(F(0), P(1), P(2), L(3)); });
                } else if (name == "unary") {
                    launch(grid, block, false, [&] { unary(I(0), F(1), P(2), P(3), L(4)); });
                } else if (name == "unary_times") {
                    launch(grid, block, false, [&] { unary_times(I(0), F(1), P(2), P(3), P(4), L(5)); });
                } else if (name == "binary") {
                    launch(grid, block, false, [&] { binary(I(0), P(1), P(2), P(3), S(4), L(5)); });
                } else if (name == "copy_strided") {
                    launch(grid, block, false, [&] { copy_strided(P(0), P(1), S(2), L(3)); });
                } else if (name == "copy_strided_to") {
                    launch(grid, block, false, [&] { copy_strided_to(P(0), P(1), S(2), L(3)); });
                } else if (name == "masked_fill") {
                    launch(grid, block, false, [&] { masked_fill(P(0), P(1), F(2), P(3), S(4), L(5)); });
                } else if (name == "sum_to") {
                    launch(grid, block, false, [&] { sum_to(P(0), P(1), S(2), L(3)); });
                } else if (name == "column_sums") {
                    launch(grid, block, true, [&] { column_sums(P(0), L(1), L(2), P(3)); });
                } else if (name == "sum_to_parts") {
                    launch(grid, block, false, [&] { sum_to_parts(P(0), P(1), S(2), L(3), L(4), I(5)); });
                } else if (name == "max_axis") {
                    launch(grid, block, false, [&] { max_axis(P(0), P(1), P(2), I(3), I(4), I(5)); });
                } else if (name == "softmax") {
                    launch(grid, block, true, [&] { softmax(P(0), P(1), I(2), I(3), I(4), I(5)); });
                } else if (name == "gather") {
                    launch(grid, block, false, [&] { gather(P(0), I(1), I(2), I(3), P(4), I(5), P(6)); });
                } else if (name == "scatter_add") {
                    launch(grid, block, false, [&] { scatter_add(P(0), I(1), I(2), I(3), P(4), P(5), I(6)); });
                } else if (name == "scatter_add_parts") {
                    launch(grid, block, false, [&] { scatter_add_parts(P(0), I(1), I(2), I(3), P(4), P(5), I(6), I(7)); });
                } else if (name == "scatter_add_combine") {
                    launch(grid, block, false, [&] { scatter_add_combine(P(0), I(1), L(2), P(3)); });
                } else if (name == "im2col") {
                    launch(grid, block, false, [&] {
                        im2col(P(0), I(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), F(10), P(11));
                    });
                } else if (name == "col2im") {
                    launch(grid, block, false, [&] {
                        col2im(P(0), I(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), P(10));
                    });
                } else if (name == "bias_activation") {
                    launch(grid, block, false, [&] { bias_activation(I(0), P(1), P(2), I(3), I(4)); });
                } else if (name == "activation_grad") {
                    launch(grid, block, false, [&] { activation_grad(I(0), P(1), P(2), P(3), L(4)); });
                } else if (name == "nll") {
                    launch(grid, block, true, [&] { nll(P(0), P(1), I(2), I(3), P(4)); });
                } else if (name == "cross_entropy_grad") {
                    launch(grid, block, false, [&] { cross_entropy_grad(P(0), P(1), I(2), I(3), F(4), P(5), P(6)); });
                } else if (name.rfind("attention_forward_", 0) == 0) {
                    // The three widths' kernels run the same template; each is named by its own.
                    auto forward = name == "attention_forward_32" ? attention_forward_32
                            : name == "attention_forward_64" ? attention_forward_64 : attention_forward_128;
                    launch(grid, block, true, [&] {
                        forward(P(0), P(1), P(2), P(3), P(4), I(5), I(6), I(7), I(8), I(9), I(10), F(11), A(12));
                    });
                } else if (name.rfind("attention_backward_query_", 0) == 0) {
                    auto query = name == "attention_backward_query_32" ? attention_backward_query_32
                            : name == "attention_backward_query_64" ? attention_backward_query_64 : attention_backward_query_128;
                    launch(grid, block, true, [&] {
                        query(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), I(8), I(9), I(10), I(11), I(12), I(13), F(14),
                              A(15));
                    });
                } else if (name.rfind("attention_backward_key_", 0) == 0) {
                    auto key = name == "attention_backward_key_32" ? attention_backward_key_32
                            : name == "attention_backward_key_64" ? attention_backward_key_64 : attention_backward_key_128;
                    launch(grid, block, true, [&] {
                        key(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), I(8), I(9), I(10), I(11), I(12), I(13), F(14),
                            A(15));
                    });
                } else {
                    std::fprintf(stderr, "emulator: unknown kernel %s%c", name.c_str(), 10);
                    return 2;
                }
                for (const std::vector<float>& buffer : buffers) {
                    std::printf("%zu", buffer.size() - 1);
                    for (size_t k = 0; k + 1 < buffer.size(); k++) {
                        uint32_t bits;
                        std::memcpy(&bits, &buffer[k], sizeof bits);
                        std::printf(" %08x", (unsigned int) bits);
                    }
                    std::printf("%c", 10);
                }
                return 0;
            }
            """;
}
