using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System;
using Microsoft.ML.Data;
using Microsoft.ML.Kare;
using Microsoft.ML.Kare.Onnx;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Runtime;
using Microsoft.ML;

// This is for deserialization from a model repository.
[assembly: LoadableClass(typeof(KareMulticlassModelParameters), null, typeof(SignatureLoadModel),
    "KARE Multiclass Classification Executor",
    KareMulticlassModelParameters.LoaderSignature)]

namespace Microsoft.ML.Kare;

/// <summary>
/// Model parameters for <c>KareMulticlassTrainer</c> (Microsoft.ML.Kare.Trainers): kernel ridge regression on ±1 one-hot targets (one output
/// per class, one kernel shared by all) with the empirical neural tangent kernel of a network whose kernel was trained
/// with KARE, stored in primal form; the class scores are a softmax of the regression outputs.
/// </summary>
/// <remarks>
/// For a row x, output k of the regression is <c>f_k = m_k + s_k · ∇θ f(z; θ)ᵀ β_k</c> (z the standardised row, clipped to the training range when the model stores one, m_k and
/// s_k the mean and scale of the ±1 targets of class k). The score of class k is the probability
/// <c>exp(T·f_k) / Σ_j exp(T·f_j)</c>, with the temperature T = <see cref="Temperature"/> fitted by maximum likelihood
/// on the regression's leave-one-out predictions of the training rows. Scores sum to 1 and have the same order as the
/// regression outputs. Scoring needs neither the training data nor libtorch. Pipelines that end in the model export to
/// ONNX with ML.NET's converter: the score vector and the predicted label, computed in float32.
/// </remarks>
public sealed class KareMulticlassModelParameters : KareModelParametersBase<VBuffer<float>>, IValueMapper, ISingleCanSaveOnnx
{
    internal const string LoaderSignature = "KareMulticlassExec";
    internal const string RegistrationName = "KareMulticlassPredictor";

    private readonly VectorDataViewType _outputType;

    /// <summary>The first version whose softmax temperature carries a digest.</summary>
    private const uint TemperatureDigestVersion = 0x00010004;

    private static VersionInfo GetVersionInfo()
    {
        return new VersionInfo(
            modelSignature: "KAREMULT",
            //verWrittenCur: 0x00010001, // Initial
            //verWrittenCur: 0x00010002, // Stores the method (KareMethod)
            //verWrittenCur: 0x00010003, // SHA-256 digests of the fields, θ and β (KarePrimalModel.IntegrityVersion)
            //verWrittenCur: 0x00010004, // The softmax temperature in its own digested field block
            //verWrittenCur: 0x00010005, // The number of networks, and their θ and β (KarePrimalModel.MembersVersion)
            //verWrittenCur: KarePrimalModel.CompressionVersion, // The features' compression scales (0x00010006 unused)
            //verWrittenCur: KarePrimalModel.NormalScoresVersion, // The normal scores appended to the features
            verWrittenCur: KarePrimalModel.InputRangeVersion, // The training range the inputs are clipped to
            verReadableCur: KarePrimalModel.InputRangeVersion,
            verWeCanReadBack: 0x00010001,
            loaderSignature: LoaderSignature,
            loaderAssemblyName: typeof(KareMulticlassModelParameters).Assembly.FullName);
    }

    /// <summary>Creates model parameters from a finished fit on one-hot targets (one output per class) and a softmax temperature.</summary>
    internal KareMulticlassModelParameters(IHostEnvironment env, KareFitResult result, double temperature)
        : base(env, RegistrationName, result, Contracts.CheckRef(result, nameof(result)).OutputCount)
    {
        Host.CheckParam(Primal.OutputCount >= 2, nameof(result), "A multiclass model needs at least two classes.");
        Host.CheckParam(temperature >= 0 && double.IsFinite(temperature), nameof(temperature), "Must be a non-negative finite number.");
        Temperature = temperature;
        _outputType = new VectorDataViewType(NumberDataViewType.Single, Primal.OutputCount);
    }

    private KareMulticlassModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, RegistrationName, ctx, storeOutputCount: true)
    {
        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // (Base class) the layout of KarePrimalModel with the output count c (the number of classes)
        // double: softmax temperature T; from version 0x00010004 on, as a field block of its own (long: 8; double: T;
        // byte[32]: SHA-256 of those 8 bytes), so that a damaged temperature is detected like the other fields
        Host.CheckDecode(Primal.OutputCount >= 2, $"The KARE multiclass model has {Primal.OutputCount} classes; it needs at least two.");
        if (ctx.Header.ModelVerWritten >= TemperatureDigestVersion)
        {
            BinaryReader fields = ModelIntegrity.ReadFields(Host, ctx.Reader, "KARE");
            Temperature = fields.ReadDouble();
            ModelIntegrity.EndFields(Host, fields, "KARE");
        }
        else
        {
            Temperature = ctx.Reader.ReadDouble();
        }
        Host.CheckDecode(Temperature >= 0 && double.IsFinite(Temperature), $"The KARE model's softmax temperature ({Temperature}) is not a non-negative finite number.");
        _outputType = new VectorDataViewType(NumberDataViewType.Single, Primal.OutputCount);
    }

    internal static KareMulticlassModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        Contracts.CheckValue(env, nameof(env));
        env.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel(GetVersionInfo());
        return new KareMulticlassModelParameters(env, ctx);
    }

    /// <inheritdoc/>
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());

        // *** Binary format ***
        // (Base class) int: sizeof(float)
        // the layout of KarePrimalModel with the output count c (the number of classes)
        // long: 8; double: softmax temperature T; byte[32]: SHA-256 of the 8 bytes of T
        Primal.Save(ctx, storeOutputCount: true);
        ModelIntegrity.WriteFields(ctx.Writer, writer => writer.Write(Temperature));
    }

    /// <inheritdoc/>
    protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

    /// <summary>Number of classes c: the length of the score vector.</summary>
    public int ClassCount => Primal.OutputCount;

    /// <summary>Per-class mean of the ±1 one-hot training targets.</summary>
    public IReadOnlyList<double> OutputMeans => new ReadOnlyCollection<double>(Primal.TargetMeans);

    /// <summary>Per-class scale (positive) of the ±1 one-hot training targets.</summary>
    public IReadOnlyList<double> OutputScales => new ReadOnlyCollection<double>(Primal.TargetScales);

    /// <summary>The softmax temperature T that turns the regression outputs into class probabilities.</summary>
    public double Temperature { get; }

    DataViewType IValueMapper.InputType => Primal.InputType;

    DataViewType IValueMapper.OutputType => _outputType;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Host.Check(typeof(TIn) == typeof(VBuffer<float>), "The KARE model's input must be a vector of Single.");
        Host.Check(typeof(TOut) == typeof(VBuffer<float>), "The KARE multiclass model's output is a vector of Single.");
        double temperature = Temperature;
        return (ValueMapper<TIn, TOut>)(Delegate)Primal.CreateVectorMapper(Host, values => Softmax(values, temperature));
    }

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => true;

    /// <summary>The score vector softmax(T·f) and, when the scorer asks for it, the predicted label.</summary>
    bool ISingleCanSaveOnnx.SaveAsOnnx(OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        var graph = new OnnxGraph(ctx, "KARE multiclass classification");
        ScoreColumnGraph.MulticlassColumns(graph, Primal.SaveAsOnnx(graph, featureColumn), Temperature, outputNames);
        return true;
    }

    /// <summary>Replaces <paramref name="values"/> by softmax(T·values); all NaN when one is NaN.</summary>
    internal static void Softmax(Span<float> values, double temperature)
    {
        double max = double.NegativeInfinity;
        foreach (float v in values)
        {
            if (float.IsNaN(v))
            {
                values.Fill(float.NaN);
                return;
            }
            max = Math.Max(max, temperature * v);
        }
        double sum = 0;
        for (int k = 0; k < values.Length; k++)
            sum += Math.Exp(temperature * values[k] - max);
        for (int k = 0; k < values.Length; k++)
            values[k] = (float)(Math.Exp(temperature * values[k] - max) / sum);
    }
}
