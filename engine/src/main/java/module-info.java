/**
 * Adjoint's engine: tensors, automatic differentiation, modules, optimizers, checkpointing,
 * data and safetensors, and the backend SPI that backends implement. {@code org.adjoint.internal}
 * is not exported: it is the implementation, shared by the engine's packages only.
 */
module org.adjoint.engine {
    requires java.logging;

    exports org.adjoint;
    exports org.adjoint.autodiff;
    exports org.adjoint.backend;
    exports org.adjoint.checkpoint;
    exports org.adjoint.data;
    exports org.adjoint.io;
    exports org.adjoint.nn;
    exports org.adjoint.optim;

    uses org.adjoint.backend.Backend;
}
