using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>TorchSharp's native libraries load in the test process (the build step made libLibTorchSharp.so loadable).</summary>
[TestClass]
public sealed class TorchSharpLoadTests
{
    [TestMethod]
    public void TorchSharpLoadsAndRunsFloat64MatmulAndCholesky()
    {
        using torch.Tensor a = torch.tensor(new double[] { 4, 2, 2, 3 }, new long[] { 2, 2 }, dtype: torch.ScalarType.Float64);
        using torch.Tensor gram = torch.matmul(a, a.t()); // [[20, 14], [14, 13]]
        using torch.Tensor l = torch.linalg.cholesky(gram);

        Assert.AreEqual(torch.ScalarType.Float64, l.dtype);
        double[] values = l.data<double>().ToArray();
        Assert.HasCount(4, values);
        double l00 = Math.Sqrt(20.0);
        double l10 = 14.0 / l00;
        double l11 = Math.Sqrt(13.0 - l10 * l10);
        Assert.AreEqual(l00, values[0], 1e-12);
        Assert.AreEqual(0.0, values[1], 1e-12);
        Assert.AreEqual(l10, values[2], 1e-12);
        Assert.AreEqual(l11, values[3], 1e-12);

        using torch.Tensor back = torch.matmul(l, l.t());
        Assert.IsTrue(torch.allclose(back, gram, rtol: 1e-12, atol: 1e-12), "L·Lᵀ does not give back the Gram matrix.");
    }
}
