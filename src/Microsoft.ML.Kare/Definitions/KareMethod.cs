namespace Microsoft.ML.Kare;

/// <summary>
/// How the network is trained and how the model predicts: KARE, or one of the methods it is compared with in the KARE
/// paper and the research around it (kare.md §4, §6). All share the network, the neural tangent kernel and the kernel
/// ridge regression of the KARE trainers, so they can be compared option for option.
/// </summary>
public enum KareMethod
{
    /// <summary>
    /// Train the network's neural tangent kernel by minimising KARE, freeze it, and predict by kernel ridge regression
    /// with it. The default.
    /// </summary>
    Kare = 0,

    /// <summary>
    /// Train the network's own output by mean squared error (the usual way), then predict by kernel ridge regression with
    /// the trained network's neural tangent kernel ("after kernel").
    /// </summary>
    AfterKernel = 1,

    /// <summary>Train the network's own output by mean squared error and predict with the network itself ("DNN").</summary>
    NeuralNetwork = 2,

    /// <summary>
    /// No training: kernel ridge regression with the neural tangent kernel of the network at its random initialisation
    /// (the "lazy" regime). <see cref="KareTrainerOptionsBase.NumberOfEpochs"/> is ignored.
    /// </summary>
    NtkAtInitialization = 3,

    /// <summary>
    /// Train the linearisation f(θ₀) + J(θ₀)(θ − θ₀) of the network by mean squared error, re-linearising it at the current
    /// parameters every <see cref="KareTrainerOptionsBase.RelinearizationInterval"/> steps (1 is ordinary training, 0
    /// never re-linearises: pure NTK training), then predict by kernel ridge regression with the final network's neural
    /// tangent kernel.
    /// </summary>
    IterativeLinearizationKernel = 4,

    /// <summary>
    /// Like <see cref="IterativeLinearizationKernel"/>, but predict with the trained linearised network itself:
    /// f(x; θ_k) + ∇θ f(x; θ_k)ᵀ(θ − θ_k), with θ_k the last linearisation point.
    /// </summary>
    IterativeLinearizationNetwork = 5,
}
