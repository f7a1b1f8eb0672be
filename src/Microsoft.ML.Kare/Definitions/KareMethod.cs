namespace Microsoft.ML.Kare;

/// <summary>
/// How the network is trained and how the model predicts: KARE, or one of the methods it is compared with in the KARE
/// paper and the research around it (docs/maths.md, "Other methods"). All share the network, the neural tangent kernel and the kernel
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
    /// (the "lazy" regime). the trainers' <c>NumberOfEpochs</c> option is ignored.
    /// </summary>
    NtkAtInitialization = 3,

    /// <summary>
    /// Train the linearisation f(θ₀) + J(θ₀)(θ − θ₀) of the network by mean squared error, re-linearising it at the current
    /// parameters every the trainers' <c>RelinearizationInterval</c> option steps (1 is ordinary training, 0
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

/// <summary>What each <see cref="KareMethod"/> implies for training and prediction: the one place these are decided.</summary>
internal static class KareMethodTraits
{
    /// <summary>
    /// True when the model predicts by kernel ridge regression with the (final) network's neural tangent kernel; false
    /// when it predicts with the (linearised) network itself, whose output the saved model then adds to ∇θ f(x)ᵀβ.
    /// </summary>
    public static bool UsesKernelReadout(this KareMethod method) => method is not (KareMethod.NeuralNetwork or KareMethod.IterativeLinearizationNetwork);

    /// <summary>True when the network is trained through its linearisation (iterative linearisation).</summary>
    public static bool IsLinearized(this KareMethod method) => method is KareMethod.IterativeLinearizationKernel or KareMethod.IterativeLinearizationNetwork;

    /// <summary>True when the network's own single output is trained by mean squared error rather than its kernel by KARE.</summary>
    public static bool TrainsByMeanSquaredError(this KareMethod method) => method is not (KareMethod.Kare or KareMethod.NtkAtInitialization);

    /// <summary>True when the network is trained at all (the NTK at initialisation is not).</summary>
    public static bool Trains(this KareMethod method) => method != KareMethod.NtkAtInitialization;

    /// <summary>How the method is described in training messages.</summary>
    public static string Description(this KareMethod method) => method switch
    {
        KareMethod.Kare => "kernel trained by KARE",
        KareMethod.AfterKernel => "after-kernel: network trained by MSE, then its kernel",
        KareMethod.NeuralNetwork => "network trained by MSE, predicting itself",
        KareMethod.NtkAtInitialization => "kernel of the network at initialisation",
        KareMethod.IterativeLinearizationKernel => "iterative linearisation, then the final kernel",
        KareMethod.IterativeLinearizationNetwork => "iterative linearisation, predicting with the linearised network",
        _ => method.ToString(),
    };
}
