package main

// The node simulator stands in for kubelets: kwok (v0.6.1 and v0.7.0) does not build against
// Kubernetes 1.34's libraries, so this is the smallest piece that makes scheduled pods Running and
// Ready and lets deleted pods go, which is all Deployments need to report available replicas.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

const simulatedNodeLabel = "serverless-rollouts.io/simulated-node"

type nodeSimulator struct {
	client    kubernetes.Interface
	nodes     map[string]bool
	readyTime time.Duration
	nextIP    atomic.Uint32
	queue     workqueue.TypedRateLimitingInterface[string]
	pods      cache.Indexer
}

func runNodeSimulator(args []string) int {
	flags := flag.NewFlagSet("node-simulator", flag.ContinueOnError)
	kubeconfig := flags.String("kubeconfig", "", "kubeconfig of an identity that may manage nodes and pods (required)")
	count := flags.Int("nodes", 2, "how many nodes to simulate")
	readyAfter := flags.Duration("ready-after", 300*time.Millisecond, "how long a scheduled pod takes to become Ready")
	if err := flags.Parse(args); err != nil || *kubeconfig == "" || *count < 1 {
		fmt.Fprintln(os.Stderr, "usage: testcluster node-simulator --kubeconfig FILE [--nodes N] [--ready-after DURATION]")
		return 2
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load kubeconfig: %v\n", err)
		return 1
	}
	config.QPS, config.Burst = 200, 400
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	sim := &nodeSimulator{
		client:    client,
		nodes:     map[string]bool{},
		readyTime: *readyAfter,
		queue:     workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
	}
	for i := 0; i < *count; i++ {
		name := fmt.Sprintf("sim-node-%d", i)
		if err := sim.registerNode(ctx, name, i); err != nil {
			fmt.Fprintf(os.Stderr, "register node %s: %v\n", name, err)
			return 1
		}
		sim.nodes[name] = true
	}
	go sim.heartbeat(ctx)
	return sim.run(ctx)
}

func (s *nodeSimulator) registerNode(ctx context.Context, name string, index int) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", simulatedNodeLabel: "true"},
	}}
	created, err := s.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = s.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return err
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("128Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	now := metav1.Now()
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "SimulatedKubeletReady",
			Message: "simulated by testcluster node-simulator", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.200.0.%d", index+1)},
			{Type: corev1.NodeHostName, Address: name},
		},
		NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.34.4-simulated", OperatingSystem: "linux", Architecture: "amd64"},
	}
	updated, err := s.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	// The API server taints new nodes not-ready; the node lifecycle controller, which is not run
	// here, lifts the taint once a kubelet reports Ready.
	var taints []corev1.Taint
	for _, taint := range updated.Spec.Taints {
		if taint.Key != corev1.TaintNodeNotReady {
			taints = append(taints, taint)
		}
	}
	if len(taints) == len(updated.Spec.Taints) {
		return nil
	}
	updated.Spec.Taints = taints
	_, err = s.client.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{})
	return err
}

// heartbeat keeps the Ready condition fresh, as a kubelet would, in case node lifecycle runs.
func (s *nodeSimulator) heartbeat(ctx context.Context) {
	ticker := time.NewTicker(30 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			for name := range s.nodes {
				node, err := s.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					continue
				}
				for i := range node.Status.Conditions {
					if node.Status.Conditions[i].Type == corev1.NodeReady {
						node.Status.Conditions[i].LastHeartbeatTime = metav1.Now()
					}
				}
				_, _ = s.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
			}
		}
	}
}

func (s *nodeSimulator) run(ctx context.Context) int {
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
		informers.WithTweakListOptions(func(options *metav1.ListOptions) {
			options.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		}))
	informer := factory.Core().V1().Pods().Informer()
	s.pods = informer.GetIndexer()
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			s.queue.Add(key)
		}
	}
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return 1
	}
	fmt.Fprintf(os.Stderr, "node simulator ready: %d nodes\n", len(s.nodes))
	for i := 0; i < 4; i++ {
		go s.work(ctx)
	}
	<-ctx.Done()
	s.queue.ShutDown()
	return 0
}

func (s *nodeSimulator) work(ctx context.Context) {
	for {
		key, shutdown := s.queue.Get()
		if shutdown {
			return
		}
		if err := s.sync(ctx, key); err != nil {
			s.queue.AddRateLimited(key)
		} else {
			s.queue.Forget(key)
		}
		s.queue.Done(key)
	}
}

func (s *nodeSimulator) sync(ctx context.Context, key string) error {
	obj, exists, err := s.pods.GetByKey(key)
	if err != nil || !exists {
		return err
	}
	pod := obj.(*corev1.Pod)
	if !s.nodes[pod.Spec.NodeName] {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		// A kubelet confirms a deletion once the containers stopped; here they stop at once.
		zero := int64(0)
		err := s.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if pod.Status.Phase == corev1.PodRunning && podReady(pod) {
		return nil
	}
	if wait := s.readyTime - time.Since(pod.CreationTimestamp.Time); wait > 0 {
		s.queue.AddAfter(key, wait)
		return nil
	}
	return s.markRunning(ctx, pod)
}

func (s *nodeSimulator) markRunning(ctx context.Context, pod *corev1.Pod) error {
	now := metav1.Now()
	updated := pod.DeepCopy()
	ip := s.nextIP.Add(1)
	updated.Status.Phase = corev1.PodRunning
	updated.Status.HostIP = "10.200.0.1"
	updated.Status.PodIP = fmt.Sprintf("10.244.%d.%d", (ip/250)%250, ip%250+1)
	updated.Status.PodIPs = []corev1.PodIP{{IP: updated.Status.PodIP}}
	updated.Status.StartTime = &now
	updated.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	updated.Status.ContainerStatuses = nil
	for _, container := range pod.Spec.Containers {
		started := true
		updated.Status.ContainerStatuses = append(updated.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: container.Name, Image: container.Image, ImageID: "simulated://" + container.Image,
			Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	_, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func podReady(pod *corev1.Pod) bool {
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}
