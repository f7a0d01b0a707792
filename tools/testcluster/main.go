// Command testcluster is a real Kubernetes control plane for tests and local mode, built from the
// Go module proxy: one binary whose first argument picks the component, so each runs in its own
// process (the components share global metric and flag registries and cannot share one).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	kubeapiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kubecontrollermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kubescheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

const usage = "usage: testcluster etcd|kube-apiserver|kube-controller-manager|kube-scheduler|node-simulator [flags]"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	component, args := os.Args[1], os.Args[2:]
	switch component {
	case "etcd":
		os.Exit(runEtcd(args))
	case "kube-apiserver":
		os.Exit(runCobra(kubeapiserver.NewAPIServerCommand(), args))
	case "kube-controller-manager":
		os.Exit(runCobra(kubecontrollermanager.NewControllerManagerCommand(), args))
	case "kube-scheduler":
		os.Exit(runCobra(kubescheduler.NewSchedulerCommand(), args))
	case "node-simulator":
		os.Exit(runNodeSimulator(args))
	default:
		fmt.Fprintf(os.Stderr, "unknown component %q\n%s\n", component, usage)
		os.Exit(2)
	}
}

func runCobra(command *cobra.Command, args []string) int {
	command.SetArgs(args)
	return cli.Run(command)
}
