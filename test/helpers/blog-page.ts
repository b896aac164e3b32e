/**
 * A blog post page shaped like a real Jekyll site (huyenchip.com): <head> with styles and analytics,
 * a site header with navigation, the post in <main><article> with h1/h2/h3, paragraphs, a table of
 * contents, a table, a code block and footnotes, a "subscribe" box, a related-posts aside and a site
 * footer. Text that must never be indexed says so (NOT-CONTENT), so tests can check for it.
 */
export const BLOG_PAGE_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Building LLM applications for production | Chip Huyen</title>
  <link rel="stylesheet" href="/assets/main.css">
  <style>.post-content table { border-collapse: collapse; } /* NOT-CONTENT style */</style>
  <script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
  <script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date()); // NOT-CONTENT script</script>
</head>
<body>
  <header class="site-header" role="banner">
    <div class="wrapper">
      <a class="site-title" rel="author" href="/">Chip Huyen NOT-CONTENT site title</a>
      <nav class="site-nav">
        <input type="checkbox" id="nav-trigger" class="nav-trigger" />
        <label for="nav-trigger"><span class="menu-icon"><svg viewBox="0 0 18 15"><path d="M18,1.484"/><text>NOT-CONTENT svg</text></svg></span></label>
        <div class="trigger">
          <a class="page-link" href="/blog/">Blog NOT-CONTENT menu</a>
          <a class="page-link" href="/books/">Books NOT-CONTENT menu</a>
          <a class="page-link" href="/mlops/">MLOps NOT-CONTENT menu</a>
        </div>
      </nav>
    </div>
  </header>

  <main class="page-content" aria-label="Content">
    <div class="wrapper">
      <article class="post h-entry" itemscope itemtype="http://schema.org/BlogPosting">
        <header class="post-header">
          <h1 class="post-title p-name" itemprop="name headline">Building LLM applications for production</h1>
          <p class="post-meta"><time class="dt-published" datetime="2023-04-11T00:00:00+00:00">Apr 11, 2023</time> &bull; Chip Huyen NOT-CONTENT byline</p>
        </header>

        <div class="post-content e-content" itemprop="articleBody">
          <p>A question that I&rsquo;ve been asked a lot recently is how large language models (LLMs) will change machine learning workflows. It&#8217;s easy to make something cool with LLMs, but very hard to make something production-ready with them.</p>

          <p><strong>Table of contents</strong></p>
          <ul>
            <li><a href="#part_1">Part I. Challenges of productionizing prompt engineering</a>
              <ul>
                <li><a href="#ambiguity">The ambiguity of natural languages</a></li>
                <li><a href="#cost">Cost and latency</a></li>
              </ul>
            </li>
            <li><a href="#part_2">Part II. Task composability</a></li>
          </ul>

          <hr>
          <h2 id="part_1">Part I. Challenges of productionizing prompt engineering</h2>
          <h3 id="ambiguity">The ambiguity of natural languages</h3>
          <p>For most of the history of computers, engineers have written instructions in programming languages. Programming languages are &ldquo;mostly&rdquo; exact.<sup id="fnref:1"><a href="#fn:1" class="footnote" rel="footnote">1</a></sup> Ambiguity in natural languages makes prompts flexible &mdash; and flaky.</p>
          <p>Prompt evaluation: the caf&eacute; example shows that the same prompt&nbsp;can give different outputs &rarr; you need evaluation.</p>

          <h3 id="cost">Cost and latency</h3>
          <p>The more explicit detail and examples you put into the prompt, the better the model performance, but the more expensive your inference will cost.</p>
          <table>
            <thead>
              <tr><th></th><th>Input tokens</th><th>Output tokens</th><th>Cost</th></tr>
            </thead>
            <tbody>
              <tr><td>GPT-4 (8k context)</td><td>10k</td><td>200</td><td>$0.312</td></tr>
              <tr><td>GPT-4 (32k context)</td><td>10k</td><td>200</td><td>$0.624</td></tr>
            </tbody>
          </table>

          <p>A prompt for a classifier might look like this:</p>
          <div class="language-python highlighter-rouge"><div class="highlight"><pre class="highlight"><code><span class="k">def</span> <span class="nf">classify</span><span class="p">(</span><span class="n">text</span><span class="p">):</span>
    <span class="n">prompt</span> <span class="o">=</span> <span class="s">"Is this email spam? &lt;email&gt;"</span> <span class="o">+</span> <span class="n">text</span>
    <span class="k">return</span> <span class="n">llm</span><span class="p">(</span><span class="n">prompt</span><span class="p">)</span>
</code></pre></div></div>

          <h2 id="part_2">Part II. Task composability</h2>
          <p>Applications that consist of multiple tasks need control flows: sequential, parallel, if statements and for loops.</p>
          <ol>
            <li>Process the natural-language input.</li>
            <li>Convert it to SQL and run the query.</li>
          </ol>

          <div class="subscribe-box">
            <form action="https://example.invalid/subscribe" method="post">
              <p>Subscribe to my newsletter NOT-CONTENT form</p>
              <input type="email" name="email" placeholder="you@example.com">
              <button type="submit">Subscribe NOT-CONTENT button</button>
            </form>
          </div>

          <div class="footnotes" role="doc-endnotes">
            <ol>
              <li id="fn:1"><p>Programming languages have their own ambiguities, such as undefined behaviour. <a href="#fnref:1" class="reversefootnote" role="doc-backlink">&#8617;</a></p></li>
            </ol>
          </div>
        </div>

        <aside class="related">
          <h2>Related posts NOT-CONTENT</h2>
          <article><h3>RLHF: Reinforcement Learning from Human Feedback NOT-CONTENT related</h3></article>
        </aside>
        <a class="u-url" href="/2023/04/11/llm-engineering.html" hidden>NOT-CONTENT hidden link</a>
      </article>
    </div>
  </main>

  <footer class="site-footer h-card">
    <div class="wrapper">
      <h2 class="footer-heading">Chip Huyen NOT-CONTENT footer</h2>
      <p>&copy; 2023 Chip Huyen. NOT-CONTENT copyright</p>
      <ul class="social-media-list"><li><a href="https://twitter.com/chipro">Twitter NOT-CONTENT</a></li></ul>
    </div>
  </footer>
  <noscript><p>Please enable JavaScript NOT-CONTENT noscript</p></noscript>
  <script type="text/javascript" src="/assets/js/mathjax.js"></script>
</body>
</html>
`;
