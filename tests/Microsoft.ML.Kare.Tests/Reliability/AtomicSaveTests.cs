using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Kare.Tests.Trainers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Reliability;

/// <summary>
/// ML.NET's <c>Model.Save(model, schema, path)</c> truncates the file and writes in place, so a failure midway destroys
/// the previous model; <see cref="KareModelFile.SaveAtomically"/> leaves it byte-identical and no temporary file behind.
/// </summary>
[TestClass]
public sealed class AtomicSaveTests
{
    private const int InputCount = 4;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MLNetSaveLeavesAHalfWrittenFileWhenTheSaveFailsMidway()
    {
        // Measures the behaviour SaveAtomically exists for.
        var (mlContext, good, schema, folder) = Setup();
        try
        {
            string path = Path.Combine(folder, "MLModel.zip");
            mlContext.Model.Save(good, schema, path);
            byte[] before = File.ReadAllBytes(path);

            Assert.ThrowsExactly<IOException>(() => mlContext.Model.Save(Failing(good), schema, path));
            byte[] after = File.ReadAllBytes(path);
            TestContext.WriteLine($"ML.NET's Save over a {before.Length}-byte model that failed midway left {after.Length} bytes.");
            Assert.IsFalse(after.AsSpan().SequenceEqual(before), "ML.NET's Save writes in place: the old model is gone");
            Exception loadError = Assert.Throws<Exception>(() => mlContext.Model.Load(path, out _));
            TestContext.WriteLine($"Loading it: {loadError.GetType().Name}: {loadError.Message}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void FailedAtomicSaveLeavesTheExistingFileByteIdenticalAndNoTemporaryFile()
    {
        var (mlContext, good, schema, folder) = Setup();
        try
        {
            string path = Path.Combine(folder, "MLModel.zip");
            mlContext.Model.SaveAtomically(good, schema, path);
            byte[] before = File.ReadAllBytes(path);

            var ex = Assert.ThrowsExactly<IOException>(() => mlContext.Model.SaveAtomically(Failing(good), schema, path));
            StringAssert.Contains(ex.Message, FailingTransformer.Message);
            CollectionAssert.AreEqual(before, File.ReadAllBytes(path));
            CollectionAssert.AreEqual(new[] { "MLModel.zip" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray());
            Assert.IsNotNull(mlContext.Model.Load(path, out _));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void FailedFirstAtomicSaveLeavesNoFileAtAll()
    {
        var (mlContext, _, schema, folder) = Setup();
        try
        {
            string path = Path.Combine(folder, "MLModel.zip");
            Assert.ThrowsExactly<IOException>(() => mlContext.Model.SaveAtomically(Failing(KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount))), schema, path));
            Assert.IsEmpty(Directory.GetFileSystemEntries(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void AtomicSaveReplacesAnExistingModelWithALoadableOne()
    {
        var (mlContext, good, schema, folder) = Setup();
        try
        {
            string path = Path.Combine(folder, "MLModel.zip");
            File.WriteAllText(path, "an older file");
            mlContext.Model.SaveAtomically(good, schema, path);

            var loaded = (RegressionPredictionTransformer<KareRegressionModelParameters>)mlContext.Model.Load(path, out DataViewSchema loadedSchema);
            float[][] rows = KareTestModels.RandomRows(10, InputCount, seed: 3);
            CollectionAssert.AreEqual(KareTestModels.Score(mlContext, good, rows, InputCount), KareTestModels.Score(mlContext, loaded, rows, InputCount));
            Assert.AreEqual(schema[KareTestModels.FeatureColumn].Type, loadedSchema[KareTestModels.FeatureColumn].Type);
            CollectionAssert.AreEqual(new[] { "MLModel.zip" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).ToArray());

            // Same bytes as ML.NET's own Save, but written in one piece.
            string plain = Path.Combine(folder, "plain.zip");
            mlContext.Model.Save(good, schema, plain);
            Assert.AreEqual(new FileInfo(plain).Length, new FileInfo(path).Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void AtomicSaveRejectsBadArguments()
    {
        var (mlContext, good, schema, folder) = Setup();
        try
        {
            Assert.ThrowsExactly<ArgumentNullException>(() => mlContext.Model.SaveAtomically(null!, schema, Path.Combine(folder, "m.zip")));
            Assert.ThrowsExactly<ArgumentException>(() => mlContext.Model.SaveAtomically(good, schema, ""));
            Assert.ThrowsExactly<ArgumentException>(() => mlContext.Model.SaveAtomically(good, schema, folder));
            Assert.ThrowsExactly<DirectoryNotFoundException>(() => mlContext.Model.SaveAtomically(good, schema, Path.Combine(folder, "missing", "m.zip")));
            Assert.IsEmpty(Directory.GetFileSystemEntries(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A chain that saves <paramref name="model"/>, then fails.</summary>
    private static ITransformer Failing(ITransformer model) => new TransformerChain<ITransformer>(model, new FailingTransformer());

    private static (MLContext MLContext, ITransformer Model, DataViewSchema Schema, string Folder) Setup()
    {
        var mlContext = new MLContext(seed: 0);
        var model = KareTestModels.CreateTransformer(mlContext, KareTestModels.CreateModel(mlContext, InputCount));
        DataViewSchema schema = KareTestModels.CreateFeatureData(mlContext, Array.Empty<float[]>(), InputCount).Schema;
        return (mlContext, model, schema, ReliabilityFixtures.CreateScratchFolder());
    }

    /// <summary>
    /// A transformer whose save fails, as a full disk or a crash would; placed after a real model in a chain, so that
    /// the zip already holds that model's entries when it fails.
    /// </summary>
    private sealed class FailingTransformer : ITransformer
    {
        public const string Message = "Simulated failure after part of the model was written.";

        public bool IsRowToRowMapper => true;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

        public IDataView Transform(IDataView input) => input;

        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new IOException(Message);
    }
}
