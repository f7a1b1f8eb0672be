using System;
using Microsoft.ML.Kare.Networks;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Kernels;

/// <summary>
/// The empirical neural tangent kernel of an MLP in its structured form (docs/maths.md, "Empirical NTK"):
/// K(X, X′) = Σ_l (Δ_l Δ′_lᵀ) ⊙ (A_{l-1} A′_{l-1}ᵀ + 1) + (A_L A′_Lᵀ + 1),
/// one term per weight matrix and bias, O(n·n′·Σ widths) instead of O(n·n′·P). Built from forward quantities, so it
/// differentiates through ordinary autograd.
/// </summary>
internal static class StructuredNtk
{
    /// <summary>K(a, b), an n_a×n_b tensor (with autograd history if the features have it).</summary>
    public static Tensor Compute(NetworkFeatures a, NetworkFeatures b)
    {
        int depth = a.Deltas.Length;
        Tensor kernel = a.Activations[depth].mm(b.Activations[depth].t()).AddInPlace(1.0);
        for (int l = 0; l < depth; l++)
        {
            Tensor gram = a.Activations[l].mm(b.Activations[l].t()).AddInPlace(1.0);
            kernel = kernel.Plus(a.Deltas[l].mm(b.Deltas[l].t()) * gram);
        }
        return kernel;
    }

    /// <summary>
    /// K(a, b) without autograd, computed in blocks of <paramref name="blockRows"/> rows of <paramref name="a"/> so the
    /// temporaries stay at blockRows×n_b; <paramref name="checkAlive"/>, when given, runs after each block (a cancellation
    /// then waits for one block). Returns a new tensor owned by the caller's dispose scope.
    /// </summary>
    public static Tensor ComputeDetached(NetworkFeatures a, NetworkFeatures b, int blockRows = 2048, Action? checkAlive = null)
    {
        using var noGrad = torch.no_grad();
        long rows = a.RowCount;
        if (rows <= blockRows)
            return Compute(a, b);
        Tensor kernel = torch.empty(rows, b.RowCount, ScalarType.Float64);
        for (long start = 0; start < rows; start += blockRows)
        {
            using (var scope = torch.NewDisposeScope())
            {
                long length = Math.Min(blockRows, rows - start);
                kernel.narrow(0, start, length).copy_(Compute(Slice(a, start, length), b));
            }
            checkAlive?.Invoke();
        }
        return kernel;
    }

    /// <summary>
    /// Rows per block of <see cref="ComputeDetached"/> that keep a block at about 2048² kernel entries (at least 256 rows):
    /// 2,048 up to 2,048 columns, fewer beyond, so that one block takes a bounded time however many rows the kernel has.
    /// </summary>
    public static int BoundedBlockRows(long columns) => (int)Math.Clamp(2048L * 2048L / Math.Max(columns, 1), 256, 2048);

    /// <summary>
    /// The transposed Jacobian times row weights, Jᵀα (P×c), in the flat parameter layout, without forming J:
    /// ∂f/∂W_l = δ_l a_{l-1}ᵀ, ∂f/∂b_l = δ_l, ∂f/∂w_out = a_L, ∂f/∂b_out = 1, so
    /// (Jᵀα)_{W_l} = Δ_lᵀ diag(α) A_{l-1}, (Jᵀα)_{b_l} = Δ_lᵀ α, (Jᵀα)_{w_out} = A_Lᵀ α, (Jᵀα)_{b_out} = Σα.
    /// This is the primal weight vector (docs/maths.md, "Primal form") β = Jᵀα. Returns P·c values, output k at [k·P, (k+1)·P).
    /// </summary>
    public static double[] TransposedJacobianTimes(NetworkFeatures features, Tensor alpha)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        int depth = features.Deltas.Length;
        long outputs = alpha.shape[1];
        var blocksPerOutput = new Tensor[outputs];
        for (long k = 0; k < outputs; k++)
        {
            Tensor a = alpha.select(1, k);
            var pieces = new Tensor[2 * depth + 2];
            for (int l = 0; l < depth; l++)
            {
                Tensor weighted = features.Deltas[l] * a.unsqueeze(1);
                pieces[2 * l] = weighted.t().mm(features.Activations[l]).reshape(-1);
                pieces[2 * l + 1] = weighted.sum(dim: 0);
            }
            pieces[2 * depth] = features.Activations[depth].t().mv(a);
            pieces[2 * depth + 1] = a.sum().reshape(1);
            blocksPerOutput[k] = torch.cat(pieces, 0);
        }
        return torch.cat(blocksPerOutput, 0).contiguous().data<double>().ToArray();
    }

    /// <summary>
    /// The Jacobian J = ∂f/∂θ of these rows explicitly (rows×P, the flat parameter layout): row i is
    /// [vec(δ_1 a_0ᵀ), δ_1, …, vec(δ_L a_{L-1}ᵀ), δ_L, a_L, 1]. Costs rows·P memory: call it on blocks of rows, for the
    /// parameter-space fit (docs/maths.md, "Primal form") where K = J Jᵀ would not fit.
    /// </summary>
    public static Tensor JacobianRows(NetworkFeatures features)
    {
        int depth = features.Deltas.Length;
        long rows = features.RowCount;
        var pieces = new Tensor[2 * depth + 2];
        for (int l = 0; l < depth; l++)
        {
            pieces[2 * l] = (features.Deltas[l].unsqueeze(2) * features.Activations[l].unsqueeze(1)).reshape(rows, -1);
            pieces[2 * l + 1] = features.Deltas[l];
        }
        pieces[2 * depth] = features.Activations[depth];
        pieces[2 * depth + 1] = torch.ones(rows, 1, ScalarType.Float64);
        return torch.cat(pieces, 1);
    }

    /// <summary>The features of rows [start, start + length).</summary>
    public static NetworkFeatures Slice(NetworkFeatures features, long start, long length)
    {
        var activations = new Tensor[features.Activations.Length];
        for (int i = 0; i < activations.Length; i++)
            activations[i] = features.Activations[i].narrow(0, start, length);
        var deltas = new Tensor[features.Deltas.Length];
        for (int i = 0; i < deltas.Length; i++)
            deltas[i] = features.Deltas[i].narrow(0, start, length);
        return new NetworkFeatures(activations, deltas, features.Outputs.narrow(0, start, length));
    }
}
