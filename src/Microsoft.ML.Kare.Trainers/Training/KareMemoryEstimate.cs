using System;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// An estimate, made before training, of the peak memory of a fit: the training data, then the larger of the training
/// phase (one step's n×n matrices plus the held-out measurement) and the final fit (kernel or parameter space).
/// It counts the float64 matrices each phase holds at once, plus a fixed <see cref="RuntimeBytes"/> for the .NET runtime
/// and libtorch. Measured peaks: 7.6 GB for 8.2 GB estimated (16,000 rows, kernel space); 1.9 GB for 1.2 GB estimated
/// (diamonds, parameter space, allocator and ML.NET overheads), so the default budget keeps a quarter of memory spare.
/// </summary>
internal readonly record struct KareMemoryEstimate(long DataBytes, long TrainingBytes, long FinalFitBytes)
{
    /// <summary>Resident memory of the .NET runtime, ML.NET and libtorch before any data: about 400 MB measured.</summary>
    internal const long RuntimeBytes = 400L << 20;

    private const long DoubleBytes = sizeof(double);

    /// <param name="rows">All training rows n.</param>
    /// <param name="features">Features d.</param>
    /// <param name="targets">Targets c.</param>
    /// <param name="architecture">The network.</param>
    /// <param name="method">The method (which training step and which prediction).</param>
    /// <param name="batchRows">Rows per training step.</param>
    /// <param name="validationRows">Held-out rows (0 without a hold-out).</param>
    /// <param name="validationBasisRows">Rows of the held-out measurement's kernel basis.</param>
    /// <param name="parameterSpace">The final fit is solved in parameter space (P×P) rather than kernel space (n×n).</param>
    /// <param name="leaveOneOut">The final fit also computes leave-one-out predictions.</param>
    /// <param name="stepSpace">Where KARE steps: the kernel path holds n×n matrices, the parameter-space path blocks of J and P×P ones.</param>
    /// <param name="heldOutSpace">Where the held-out error is measured.</param>
    public static KareMemoryEstimate For(long rows, long features, long targets, KareNetworkArchitecture architecture, KareMethod method,
        long batchRows, long validationRows, long validationBasisRows, bool parameterSpace, bool leaveOneOut,
        TrainingSpace stepSpace = TrainingSpace.Kernel, TrainingSpace heldOutSpace = TrainingSpace.Kernel)
    {
        long widths = 0;
        foreach (int width in architecture.HiddenWidths)
            widths += width;
        long depth = architecture.Depth;
        long p = architecture.ParameterCount;
        bool kernelReadout = method.UsesKernelReadout();
        bool linearized = method.IsLinearized();

        // Raw, standardised and per-subset tensor copies of the rows.
        long data = 4 * rows * (features + targets);

        long b = Math.Max(1, batchRows);
        long step = 6 * b * (widths + features); // activations, deltas and their gradients
        if (method == KareMethod.Kare && stepSpace == TrainingSpace.Parameter)
            step += 4 * Math.Min(b, ParameterSpaceKareStep.DefaultBlockRows(p)) * p + 5 * p * p; // J with history, J·Q, dρ/dJ; JᵀJ, M, M², Q, factor
        else if (method == KareMethod.Kare)
            step += (4 + 2 * depth) * b * b; // K, A², scratch, and per layer A_l A_lᵀ and Δ_l Δ_lᵀ
        if (linearized)
            step += 2 * b * p; // the batch's Jacobian rows and a product with them

        long validation = 0;
        if (validationRows > 0)
        {
            validation = !kernelReadout ? 2 * Math.Min(validationRows, 1024) * p
                : heldOutSpace == TrainingSpace.Parameter ? 3 * p * p + (validationRows + 1024) * p // JᵀJ, its eigenvectors; J_v and a block of J
                : 4 * validationBasisRows * validationBasisRows + 3 * validationRows * validationBasisRows;
        }

        long final;
        if (!kernelReadout)
            final = linearized ? 2 * Math.Min(rows, 1024) * p : 0;
        else if (parameterSpace)
            final = 3 * p * p + 2 * 1024 * p + rows * targets;
        else
            final = (leaveOneOut ? 6 : 4) * rows * rows;

        return new KareMemoryEstimate(DoubleBytes * data, DoubleBytes * (step + validation), DoubleBytes * final);
    }

    /// <summary>No estimate (an empty fit): the runtime alone.</summary>
    public static KareMemoryEstimate None => default;

    /// <summary>The fit's own peak: the data plus the larger of the training phase and the final fit.</summary>
    public long FitBytes => DataBytes + Math.Max(TrainingBytes, FinalFitBytes);

    /// <summary>The estimated peak of the process during the fit: <see cref="RuntimeBytes"/> plus <see cref="FitBytes"/>.</summary>
    public long TotalBytes => RuntimeBytes + FitBytes;

    /// <summary>
    /// Why a budget of <paramref name="budgetBytes"/> is too small, and what helps: when the runtime alone exceeds it,
    /// only a larger budget does; otherwise the message names the fit's own share and the options that shrink it.
    /// </summary>
    public string DescribeShortfall(long budgetBytes, string fitDescription)
    {
        string needed = $"Training would need about {Format(TotalBytes)} ({Format(FitBytes)} for this fit's data and matrices and about {Format(RuntimeBytes)} " +
                        $"for the .NET runtime, ML.NET and libtorch), more than the memory budget of {Format(budgetBytes)} " +
                        "(option MaximumMemoryMegabytes; by default three quarters of this machine's memory). ";
        return RuntimeBytes >= budgetBytes
            ? needed + "The runtime alone needs more than the budget, so no smaller fit would help: raise MaximumMemoryMegabytes."
            : needed + fitDescription + " Use a smaller BatchSize, narrower hidden layers, fewer training rows, or raise MaximumMemoryMegabytes.";
    }

    /// <summary>The default budget: three quarters of the memory available to this process (physical or container limit).</summary>
    public static long DefaultBudgetBytes()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? available / 4 * 3 : long.MaxValue;
    }

    /// <summary>Formats a byte count in MB or GB; <see cref="long.MaxValue"/> (no budget known) as "no limit".</summary>
    public static string Format(long bytes)
        => bytes == long.MaxValue ? "no limit"
            : bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GB" : $"{bytes / (double)(1L << 20):F0} MB";
}
