// Accessible tabs (WAI-ARIA tabs pattern, automatic activation): roving tabindex, arrows/Home/End move between tabs.

import { el } from './dom.js';

/** Render tabs into `container`. tabs: [{id, label, content: Node}]. */
export function renderTabs(container, tabs, ariaLabel) {
  container.replaceChildren();
  const list = el('div', { role: 'tablist', 'aria-label': ariaLabel, class: 'tablist' });
  const buttons = tabs.map((tab, index) =>
    el('button', {
      type: 'button',
      role: 'tab',
      id: `tab-${tab.id}`,
      'aria-controls': `panel-${tab.id}`,
      'aria-selected': index === 0 ? 'true' : 'false',
      tabindex: index === 0 ? '0' : '-1',
      'data-tab': tab.id,
    }, tab.label));
  const panels = tabs.map((tab, index) =>
    el('div', {
      role: 'tabpanel',
      id: `panel-${tab.id}`,
      'aria-labelledby': `tab-${tab.id}`,
      tabindex: '0',
      class: 'tabpanel',
      hidden: index !== 0,
    }, tab.content));

  const select = (index, focus = true) => {
    buttons.forEach((button, i) => {
      const selected = i === index;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      panels[i].hidden = !selected;
    });
    if (focus) buttons[index].focus();
  };

  buttons.forEach((button, index) => {
    button.addEventListener('click', () => select(index, false));
    button.addEventListener('keydown', (event) => {
      const last = buttons.length - 1;
      const target = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1,
        Home: 0, End: last }[event.key];
      if (target === undefined) return;
      event.preventDefault();
      select(target);
    });
  });
  list.append(...buttons);
  container.append(list, ...panels);
}
