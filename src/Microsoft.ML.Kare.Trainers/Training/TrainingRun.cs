using System;
using Microsoft.ML.Kare.Networks;

namespace Microsoft.ML.Kare.Training;

/// <summary>
/// One network being trained: its parameters, optimiser and the method's <see cref="ITrainingStep"/>, with the state
/// snapshots the epoch selector keeps and the network's own predictions for the methods that predict with it.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly ParameterOptimizer _optimizer;
    private readonly IterativeLinearization? _linearization;
    private readonly ITrainingStep _step;

    private TrainingRun(MlpNetwork network, ParameterOptimizer optimizer, IterativeLinearization? linearization, ITrainingStep step)
    {
        Network = network;
        _optimizer = optimizer;
        _linearization = linearization;
        _step = step;
    }

    public MlpNetwork Network { get; }

    /// <summary>A network initialised from <paramref name="random"/>, and the optimiser and step of the plan's method.</summary>
    public static TrainingRun Create(FitPlan plan, KareFitSettings settings, Random random)
        => Create(plan, settings, MlpNetwork.Initialize(plan.Architecture, random));

    /// <summary>A network holding <paramref name="parameters"/>, and the optimiser and step of the plan's method.</summary>
    public static TrainingRun Create(FitPlan plan, KareFitSettings settings, double[] parameters)
        => Create(plan, settings, MlpNetwork.FromParameters(plan.Architecture, parameters));

    private static TrainingRun Create(FitPlan plan, KareFitSettings settings, MlpNetwork network)
    {
        var optimizer = ParameterOptimizer.Create(settings.Optimizer, network.Parameters, plan.LearningRate);
        IterativeLinearization? linearization = plan.Method.IsLinearized() ? new IterativeLinearization(plan.Architecture, settings.RelinearizationInterval) : null;
        ITrainingStep step = plan.Method switch
        {
            _ when linearization is not null => new LinearizedNetworkStep(network, optimizer, linearization),
            _ when plan.Method.TrainsByMeanSquaredError() => new NetworkMeanSquaredErrorStep(network, optimizer),
            _ when plan.StepSpace == TrainingSpace.Parameter => new ParameterSpaceKareStep(network, optimizer, settings.TrainingRelativeRidge),
            _ => new KernelKareStep(network, optimizer, settings.TrainingRelativeRidge, plan.StochasticProbes, settings.Seed,
                settings.SinglePrecisionTraining ? TorchSharp.torch.ScalarType.Float32 : TorchSharp.torch.ScalarType.Float64),
        };
        return new TrainingRun(network, optimizer, linearization, step);
    }

    /// <summary>
    /// One epoch: a step on the whole fit set (one batch), or on each of <paramref name="batchCount"/> random
    /// mini-batches; calls <paramref name="checkAlive"/> after every step. Returns the mean objective before the updates.
    /// </summary>
    public double TrainEpoch(RowSet fit, int batchCount, Random random, Action checkAlive)
    {
        if (batchCount == 1)
        {
            // Full batch: the same rows every epoch, so their cached X Xᵀ + 1 serves the whole fit.
            double value = _step.Step(fit, batchIsFixed: true);
            checkAlive();
            return value;
        }
        double sum = 0;
        foreach (RowSet batch in fit.Batches(batchCount, random))
        {
            using (batch)
                sum += _step.Step(batch, batchIsFixed: false);
            checkAlive();
        }
        return sum / batchCount;
    }

    /// <summary>The method's objective on <paramref name="rows"/> (NaN when not finite).</summary>
    public double Objective(RowSet rows) => _step.Objective(rows);

    /// <summary>True when every parameter is finite.</summary>
    public bool IsFinite => Network.IsFinite();

    /// <summary>The parameters only (the start of an epoch, for divergence recovery).</summary>
    public double[] Parameters() => Network.GetParameters();

    /// <summary>θ and the linearisation point (θ itself unless linearised).</summary>
    public ModelState Snapshot()
    {
        double[] parameters = Network.GetParameters();
        return new ModelState(parameters, _linearization is null ? parameters : _linearization.AnchorParameters ?? Network.GetParameters());
    }

    /// <summary>Sets θ and the linearisation point of <paramref name="state"/>.</summary>
    public void Restore(ModelState state)
    {
        Network.SetParameters(state.Parameters);
        _linearization?.Relinearize(state.Anchor);
    }

    /// <summary>The (linearised) network's own predictions for the rows, standardised units.</summary>
    public double[] NetworkPredictions(RowSet rows) => _linearization is not null
        ? IterativeLinearization.Predict(Network.Architecture, _linearization.AnchorParameters ?? Network.GetParameters(), Network.GetParameters(), rows.Features)
        : MseStep.Predict(Network, rows.Features);

    public void Dispose()
    {
        _step.Dispose();
        _linearization?.Dispose();
        _optimizer.Dispose();
        Network.Dispose();
    }
}
