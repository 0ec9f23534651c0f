/**
 * Reading and writing tensors in files: {@link org.adjoint.io.SafeTensors}, the safetensors
 * format of Hugging Face and PyTorch.
 */
package org.adjoint.io;
