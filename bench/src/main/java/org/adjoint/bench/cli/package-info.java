/**
 * The {@code adjoint} command: {@link org.adjoint.bench.cli.Main} reads the subcommand and
 * hands the rest of the command line to it ({@link org.adjoint.bench.cli.TrainCommand} for
 * {@code train}, {@link org.adjoint.bench.cli.CheckpointCommand} for {@code checkpoint}).
 */
package org.adjoint.bench.cli;
