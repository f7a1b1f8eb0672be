using System;
using System.Linq;
using System.Threading;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// Cross-validated fits (five folds side by side, 30 epochs), while another thread collects garbage without pause:
/// each must finish and give the model a fit without the collector gives. Before every TorchSharp scalar was held
/// (<c>HeldScalars</c>), 24 of 40 such fits failed with libtorch's "Expected false to be true" (a freed scalar read), so
/// eight fits passing by chance had a probability of about 0.4⁸ ≈ 7e-4. This covers what the IL scan of
/// <see cref="HeldScalarsTests"/> cannot see: TorchSharp's internals and tensors left to the finalizer.
/// </summary>
[TestClass]
public sealed class CollectionStressTests
{
    private const int Fits = 8;

    private sealed class Row
    {
        public float Label { get; set; }

        [VectorType(10)]
        public float[] Features { get; set; } = Array.Empty<float>();
    }

    [TestMethod]
    [TestCategory("Reliability")]
    public void FitsUnderContinuousCollectionFinishWithTheSameModel()
    {
        var mlContext = new MLContext(seed: 0);
        var random = new Random(7);
        var rows = Enumerable.Range(0, 300).Select(_ =>
        {
            float[] x = Enumerable.Range(0, 10).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            return new Row { Features = x, Label = (float)(Math.Cos(x.Sum()) + 0.1 * random.NextDouble()) };
        }).ToList();
        IDataView data = mlContext.Data.LoadFromEnumerable(rows);
        var options = new KareRegressionTrainer.Options { NumberOfEpochs = 30, Seed = 1 };
        float[] Scores() => mlContext.Regression.Trainers.Kare(options).Fit(data).Transform(data).GetColumn<float>("Score").ToArray();
        float[] reference = Scores();

        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            for (int i = 0; i < Fits; i++)
                CollectionAssert.AreEqual(reference, Scores(), $"fit {i + 1} of {Fits} under collection gave another model");
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }
}
