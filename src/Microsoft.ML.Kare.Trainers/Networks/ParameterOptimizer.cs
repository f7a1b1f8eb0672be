using System.Collections.Generic;
using System;
using Microsoft.ML.Kare.LibTorch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Kare.Networks;

/// <summary>Updates leaf tensors from their accumulated gradients, then clears the gradients.</summary>
internal abstract class ParameterOptimizer : IDisposable
{
    protected ParameterOptimizer(IReadOnlyList<Tensor> parameters, double learningRate)
    {
        Parameters = parameters;
        LearningRate = learningRate;
    }

    protected IReadOnlyList<Tensor> Parameters { get; }

    protected double LearningRate { get; }

    public static ParameterOptimizer Create(KareOptimizer kind, IReadOnlyList<Tensor> parameters, double learningRate) => kind switch
    {
        KareOptimizer.Sgd => new GradientDescent(parameters, learningRate),
        KareOptimizer.Adam => new Adam(parameters, learningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimiser."),
    };

    /// <summary>Applies one update using each parameter's <c>grad</c> and zeroes the gradients.</summary>
    public void Step()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < Parameters.Count; i++)
        {
            Tensor? gradient = Parameters[i].grad;
            if (gradient is null)
                continue;
            Update(i, Parameters[i], gradient);
            gradient.zero_();
        }
        AfterStep();
    }

    protected abstract void Update(int index, Tensor parameter, Tensor gradient);

    protected virtual void AfterStep()
    {
    }

    public virtual void Dispose()
    {
    }

    /// <summary>θ ← θ − η·g.</summary>
    private sealed class GradientDescent : ParameterOptimizer
    {
        public GradientDescent(IReadOnlyList<Tensor> parameters, double learningRate)
            : base(parameters, learningRate)
        {
        }

        protected override void Update(int index, Tensor parameter, Tensor gradient)
            => parameter.sub_(gradient.Times(LearningRate));
    }

    /// <summary>Adam with bias correction: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η·m̂/(√v̂ + ε).</summary>
    private sealed class Adam : ParameterOptimizer
    {
        private const double Beta1 = 0.9;
        private const double Beta2 = 0.999;
        private const double Epsilon = 1e-8;
        private readonly Tensor[] _firstMoments;
        private readonly Tensor[] _secondMoments;
        private int _step = 1;

        public Adam(IReadOnlyList<Tensor> parameters, double learningRate)
            : base(parameters, learningRate)
        {
            _firstMoments = new Tensor[parameters.Count];
            _secondMoments = new Tensor[parameters.Count];
            for (int i = 0; i < parameters.Count; i++)
            {
                _firstMoments[i] = torch.zeros_like(parameters[i]).detach();
                _secondMoments[i] = torch.zeros_like(parameters[i]).detach();
            }
        }

        protected override void Update(int index, Tensor parameter, Tensor gradient)
        {
            Tensor m = _firstMoments[index].MultiplyInPlace(Beta1).AddInPlace(gradient.Times(1 - Beta1));
            Tensor v = _secondMoments[index].MultiplyInPlace(Beta2).AddInPlace(gradient.Squared().Times(1 - Beta2));
            double firstCorrection = 1 - Math.Pow(Beta1, _step);
            double secondCorrection = 1 - Math.Pow(Beta2, _step);
            Tensor denominator = v.DividedBy(secondCorrection).sqrt_().AddInPlace(Epsilon);
            parameter.sub_((m / denominator).Times(LearningRate / firstCorrection));
        }

        protected override void AfterStep() => _step++;

        public override void Dispose()
        {
            foreach (Tensor t in _firstMoments)
                t.Dispose();
            foreach (Tensor t in _secondMoments)
                t.Dispose();
        }
    }
}
