# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# ccapm-trace container image for the DaemonSet in deploy/kubernetes/.
#
#   docker build -t ccapm-trace:0.1.0 .
#
# The build stage runs the same commands as a developer on Debian:
# `make deps` (scripts/install-packages build), `make` and `make install`.
# The runtime stage holds the binary and the shared libraries it links.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-packages scripts/install-packages
RUN scripts/install-packages build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make && make install DESTDIR=/out PREFIX=/usr

FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/sbin/ccapm-trace /usr/sbin/ccapm-trace
# The tracer loads BPF programs and reads /proc of the host, so it runs as
# root. The DaemonSet limits it to the capabilities it needs.
USER 0:0
ENTRYPOINT ["/usr/sbin/ccapm-trace"]
CMD ["--textfile-dir", "/var/lib/prometheus/node-exporter"]
