using System;
using System.Reflection;
using TorchSharp;

// Proves that an application referencing the Microsoft.ML.Kare.Trainers package gets a loadable TorchSharp: a float64
// matrix product and a Cholesky factorization, checked against the closed form. The scoring assembly comes with it.
Assembly kare = Assembly.Load("Microsoft.ML.Kare.Trainers");
Assembly.Load("Microsoft.ML.Kare");
using torch.Tensor a = torch.tensor(new double[] { 4, 2, 2, 3 }, new long[] { 2, 2 }, dtype: torch.ScalarType.Float64);
using torch.Tensor gram = torch.matmul(a, a.t());
using torch.Tensor l = torch.linalg.cholesky(gram);
double[] values = l.data<double>().ToArray();
double l00 = Math.Sqrt(20.0), l10 = 14.0 / l00, l11 = Math.Sqrt(13.0 - l10 * l10);
bool ok = Math.Abs(values[0] - l00) < 1e-12 && Math.Abs(values[1]) < 1e-12
    && Math.Abs(values[2] - l10) < 1e-12 && Math.Abs(values[3] - l11) < 1e-12;
Console.WriteLine($"{kare.GetName().Name} {kare.GetName().Version}; cholesky = [{string.Join(", ", values)}]");
Console.WriteLine(ok ? "PackageConsumer: TorchSharp computation OK" : "PackageConsumer: TorchSharp computation WRONG");
return ok ? 0 : 1;
